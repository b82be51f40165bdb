"""Conversation services as far as conversations need them: the account's default one, existence."""

from __future__ import annotations

from services.conversations.store.base import Connection
from shared.sids import new_sid


async def ensure_default_service(conn: Connection, *, account_sid: str) -> str:
    sid = await conn.fetchval("SELECT sid FROM services WHERE account_sid = $1 AND is_default", account_sid)
    if sid:
        return str(sid)
    await conn.execute(
        "INSERT INTO services (sid, account_sid, friendly_name, is_default) VALUES ($1, $2, 'Default', true) "
        "ON CONFLICT (account_sid) WHERE is_default DO NOTHING",
        new_sid("IS"), account_sid,
    )
    return str(await conn.fetchval("SELECT sid FROM services WHERE account_sid = $1 AND is_default", account_sid))


async def service_exists(conn: Connection, *, account_sid: str, sid: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM services WHERE account_sid = $1 AND sid = $2", account_sid, sid))
