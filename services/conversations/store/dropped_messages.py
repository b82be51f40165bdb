"""Inbound messages a pre-event webhook refused: recorded instead of stored."""

from __future__ import annotations

import uuid
from typing import Any

from services.conversations.store.base import Connection

__all__ = ["insert_dropped_message", "list_dropped_messages", "message_was_dropped"]


async def insert_dropped_message(
    conn: Connection, *, account_sid: str, channel_message_sid: str, from_address: str, to_address: str,
    conversation_sid: str | None, event_type: str, url: str, response_code: int | None, message_id: uuid.UUID,
) -> bool:
    """Record the drop; False when this provider message was dropped before."""
    return bool(await conn.fetchval(
        "INSERT INTO dropped_messages (account_sid, channel_message_sid, from_address, to_address, conversation_sid, "
        "event_type, url, response_code, message_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (account_sid, channel_message_sid) DO NOTHING RETURNING true",
        account_sid, channel_message_sid, from_address, to_address, conversation_sid, event_type, url, response_code,
        message_id,
    ))


async def message_was_dropped(conn: Connection, *, account_sid: str, channel_message_sid: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT true FROM dropped_messages WHERE account_sid = $1 AND channel_message_sid = $2",
        account_sid, channel_message_sid,
    ))


async def list_dropped_messages(conn: Connection, *, account_sid: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT channel_message_sid, from_address, to_address, conversation_sid, event_type, url, response_code, "
        "date_created FROM dropped_messages WHERE account_sid = $1 ORDER BY id", account_sid,
    )
    return [dict(row) for row in rows]
