"""Accounts other than the dev account: a subaccount of it, and an unrelated top-level account."""

from __future__ import annotations

import asyncpg
import httpx

from shared.auth.accounts import insert_account
from shared.crypto import box_of
from shared.settings import Settings
from tests.support.parley import RunningParley


async def create_subaccount(parley: RunningParley) -> tuple[str, str]:
    """(sid, auth token) of a new subaccount of the dev account."""
    async with parley.client() as client:
        response = await client.post("/api/2010-04-01/Accounts.json", data={"FriendlyName": "Team B"})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["sid"], body["auth_token"]


async def create_top_level_account(settings: Settings) -> tuple[str, str]:
    """(sid, auth token) of another business altogether, with no owner."""
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": settings.schema_name("accounts")})
    try:
        account = await insert_account(conn, box=box_of(settings.secret_key), friendly_name="Another business")
    finally:
        await conn.close()
    return account.sid, account.auth_token


def client_as(parley: RunningParley, credentials: tuple[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=parley.base_url, auth=credentials, timeout=30)
