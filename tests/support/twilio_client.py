"""The official `twilio` library pointed at a running Parley; it is synchronous, so tests call it in a thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from twilio.rest import Client

from shared.auth.accounts import Account
from tests.support.parley import RunningParley

T = TypeVar("T")


@dataclass(frozen=True)
class Credentials:
    sid: str
    auth_token: str


def twilio_client(parley: RunningParley, account: Account | Credentials | None = None) -> Client:
    who = account or parley.account
    client = Client(who.sid, who.auth_token)
    client.conversations.base_url = f"{parley.base_url}/conversations"
    return client


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one blocking library call off the event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


async def create_account(parley: RunningParley) -> Credentials:
    """A second account, to check that one account never sees another's resources."""
    async with parley.client() as client:
        response = await client.post("/api/2010-04-01/Accounts.json", data={"FriendlyName": "other"})
    assert response.status_code == 201, response.text
    body = response.json()
    return Credentials(sid=body["sid"], auth_token=body["auth_token"])
