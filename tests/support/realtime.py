"""The realtime WebSocket (`/ingress/ws`) from a test: its address on a running Parley, and its JSON messages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection

from tests.support.parley import RunningParley


def ws_url(parley: RunningParley, **params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"ws://127.0.0.1:{parley.port}/ingress/ws" + (f"?{query}" if query else "")


async def token_for(parley: RunningParley, identity: str) -> str:
    """An access token for `identity` of the dev account, as Parley mints it."""
    async with parley.client() as client:
        response = await client.post("/parley/v1/AccessTokens", data={"Identity": identity})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


async def receive(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
