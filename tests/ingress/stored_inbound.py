"""Where an inbound message ends up: the account's one auto-created conversation and its messages."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.waiting import eventually


async def the_conversation(client: httpx.AsyncClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The one conversation and its messages, once the inbound message is stored."""
    async def found() -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        conversations = (await client.get("/conversations/v1/Conversations")).json()["conversations"]
        if not conversations:
            return None
        messages = (await client.get(f"/conversations/v1/Conversations/{conversations[0]['sid']}/Messages")).json()
        return (conversations[0], list(messages["messages"])) if messages["messages"] else None
    found_now = await eventually(found, what="the inbound message stored")
    assert found_now is not None
    return found_now
