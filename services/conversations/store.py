"""All SQL of the conversations service. Functions run inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from services.conversations.domain.models import (
    AddressConfiguration,
    Conversation,
    Message,
    Participant,
    ScopedWebhook,
)
from shared.sids import new_sid

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


def _build(cls: Any, row: asyncpg.Record | None) -> Any:
    return cls(**dict(row)) if row is not None else None


# Services -----------------------------------------------------------------------------------------

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


# Address configurations ---------------------------------------------------------------------------

_ADDRESS_COLUMNS = (
    "sid, account_sid, type, address, friendly_name, address_country, auto_creation_enabled, auto_creation_type, "
    "conversation_service_sid, webhook_url, webhook_method, webhook_filters, studio_flow_sid, studio_retry_count, "
    "date_created, date_updated"
)
ADDRESS_FIELDS = (
    "type", "address", "friendly_name", "address_country", "auto_creation_enabled", "auto_creation_type",
    "conversation_service_sid", "webhook_url", "webhook_method", "webhook_filters", "studio_flow_sid",
    "studio_retry_count",
)


async def insert_address_configuration(conn: Connection, *, account_sid: str, values: dict[str, Any]) -> AddressConfiguration:
    columns = ["sid", "account_sid", *values]
    placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO address_configurations ({', '.join(columns)}) VALUES ({placeholders}) "
        f"RETURNING {_ADDRESS_COLUMNS}",
        new_sid("IG"), account_sid, *values.values(),
    )
    return _build(AddressConfiguration, row)  # type: ignore[no-any-return]


async def update_address_configuration(
    conn: Connection, *, account_sid: str, sid: str, values: dict[str, Any]
) -> AddressConfiguration | None:
    assignments = [f"{column} = ${n}" for n, column in enumerate(values, start=3)]
    row = await conn.fetchrow(
        f"UPDATE address_configurations SET {', '.join([*assignments, 'date_updated = now()'])} "
        f"WHERE account_sid = $1 AND sid = $2 RETURNING {_ADDRESS_COLUMNS}",
        account_sid, sid, *values.values(),
    )
    return _build(AddressConfiguration, row)  # type: ignore[no-any-return]


async def get_address_configuration(conn: Connection, *, account_sid: str, sid_or_address: str) -> AddressConfiguration | None:
    """By SID or by the address itself, as Twilio allows both in the path."""
    row = await conn.fetchrow(
        f"SELECT {_ADDRESS_COLUMNS} FROM address_configurations WHERE account_sid = $1 AND (sid = $2 OR address = $2)",
        account_sid, sid_or_address,
    )
    return _build(AddressConfiguration, row)  # type: ignore[no-any-return]


async def list_address_configurations(
    conn: Connection, *, account_sid: str, type_: str | None, after: str | None, before: str | None, limit: int
) -> list[AddressConfiguration]:
    if before is not None:
        rows = await conn.fetch(
            f"SELECT * FROM (SELECT {_ADDRESS_COLUMNS} FROM address_configurations WHERE account_sid = $1 "
            f"AND ($2::text IS NULL OR type = $2) AND sid < $3 ORDER BY sid DESC LIMIT $4) page ORDER BY sid",
            account_sid, type_, before, limit,
        )
    else:
        rows = await conn.fetch(
            f"SELECT {_ADDRESS_COLUMNS} FROM address_configurations WHERE account_sid = $1 "
            f"AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR sid > $3) ORDER BY sid LIMIT $4",
            account_sid, type_, after, limit,
        )
    return [_build(AddressConfiguration, row) for row in rows]


async def delete_address_configuration(conn: Connection, *, account_sid: str, sid: str) -> bool:
    result = await conn.execute("DELETE FROM address_configurations WHERE account_sid = $1 AND sid = $2", account_sid, sid)
    return bool(result.endswith(" 1"))


# Conversations ------------------------------------------------------------------------------------

_CONVERSATION_COLUMNS = (
    "sid, account_sid, chat_service_sid, messaging_service_sid, friendly_name, unique_name, attributes, state, "
    "date_inactive, date_closed, date_created, date_updated"
)


async def insert_conversation(
    conn: Connection, *, account_sid: str, chat_service_sid: str, friendly_name: str | None,
    unique_name: str | None = None, attributes: str = "{}", state: str = "active",
) -> Conversation:
    row = await conn.fetchrow(
        f"INSERT INTO conversations (sid, account_sid, chat_service_sid, friendly_name, unique_name, attributes, state) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_CONVERSATION_COLUMNS}",
        new_sid("CH"), account_sid, chat_service_sid, friendly_name, unique_name, attributes, state,
    )
    return _build(Conversation, row)  # type: ignore[no-any-return]


async def get_conversation(conn: Connection, *, account_sid: str, sid_or_unique_name: str) -> Conversation | None:
    row = await conn.fetchrow(
        f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE account_sid = $1 "
        f"AND (sid = $2 OR unique_name = $2) ORDER BY sid = $2 DESC LIMIT 1",
        account_sid, sid_or_unique_name,
    )
    return _build(Conversation, row)  # type: ignore[no-any-return]


async def set_conversation_state(conn: Connection, *, sid: str, state: str) -> Conversation:
    row = await conn.fetchrow(
        f"UPDATE conversations SET state = $2, date_updated = now() WHERE sid = $1 RETURNING {_CONVERSATION_COLUMNS}",
        sid, state,
    )
    return _build(Conversation, row)  # type: ignore[no-any-return]


async def list_conversations(
    conn: Connection, *, account_sid: str, state: str | None, after: list[Any] | None, before: list[Any] | None,
    limit: int,
) -> list[Conversation]:
    """Keyset over (date_created, sid); `after`/`before` are the last key seen as [iso date, sid]."""
    after = [datetime.fromisoformat(after[0]), after[1]] if after else None
    before = [datetime.fromisoformat(before[0]), before[1]] if before else None
    if before is not None:
        rows = await conn.fetch(
            f"SELECT * FROM (SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE account_sid = $1 "
            f"AND ($2::text IS NULL OR state = $2) AND (date_created, sid) < ($3::timestamptz, $4::text) "
            f"ORDER BY date_created DESC, sid DESC LIMIT $5) page ORDER BY date_created, sid",
            account_sid, state, before[0], before[1], limit,
        )
    else:
        rows = await conn.fetch(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE account_sid = $1 "
            f"AND ($2::text IS NULL OR state = $2) "
            f"AND ($3::timestamptz IS NULL OR (date_created, sid) > ($3::timestamptz, $4::text)) "
            f"ORDER BY date_created, sid LIMIT $5",
            account_sid, state, after[0] if after else None, after[1] if after else None, limit,
        )
    return [_build(Conversation, row) for row in rows]


async def next_message_index(conn: Connection, *, conversation_sid: str) -> int:
    """Take the conversation's next index; the row lock orders concurrent writers."""
    return int(await conn.fetchval(
        "UPDATE conversations SET last_message_index = last_message_index + 1, date_updated = now() "
        "WHERE sid = $1 RETURNING last_message_index",
        conversation_sid,
    ))


# Participants -------------------------------------------------------------------------------------

_PARTICIPANT_COLUMNS = (
    "sid, account_sid, conversation_sid, identity, binding_type, address, proxy_address, projected_address, "
    "attributes, role_sid, last_read_message_index, last_read_timestamp, date_created, date_updated"
)


async def find_bound_participant(conn: Connection, *, account_sid: str, address: str, proxy_address: str) -> Participant | None:
    """The participant holding this (customer, Parley address) pair in a non-closed conversation."""
    row = await conn.fetchrow(
        f"SELECT {', '.join('p.' + c for c in _PARTICIPANT_COLUMNS.split(', '))} FROM bound_addresses b "
        f"JOIN participants p ON p.sid = b.participant_sid "
        f"WHERE b.account_sid = $1 AND b.address = $2 AND b.proxy_address = $3",
        account_sid, address, proxy_address,
    )
    return _build(Participant, row)  # type: ignore[no-any-return]


async def insert_messaging_participant(
    conn: Connection, *, account_sid: str, conversation_sid: str, binding_type: str, address: str, proxy_address: str,
    attributes: str = "{}",
) -> Participant:
    """A customer on SMS/WhatsApp; claiming the pair fails with a UniqueViolation if another conversation holds it."""
    row = await conn.fetchrow(
        f"INSERT INTO participants (sid, account_sid, conversation_sid, binding_type, address, proxy_address, attributes) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_PARTICIPANT_COLUMNS}",
        new_sid("MB"), account_sid, conversation_sid, binding_type, address, proxy_address, attributes,
    )
    await conn.execute(
        "INSERT INTO bound_addresses (account_sid, address, proxy_address, conversation_sid, participant_sid) "
        "VALUES ($1, $2, $3, $4, $5)",
        account_sid, address, proxy_address, conversation_sid, row["sid"],
    )
    return _build(Participant, row)  # type: ignore[no-any-return]


async def list_participants(
    conn: Connection, *, conversation_sid: str, after: str | None, limit: int
) -> list[Participant]:
    rows = await conn.fetch(
        f"SELECT {_PARTICIPANT_COLUMNS} FROM participants WHERE conversation_sid = $1 "
        f"AND ($2::text IS NULL OR sid > $2) ORDER BY sid LIMIT $3",
        conversation_sid, after, limit,
    )
    return [_build(Participant, row) for row in rows]


async def get_participant(conn: Connection, *, conversation_sid: str, sid: str) -> Participant | None:
    row = await conn.fetchrow(
        f"SELECT {_PARTICIPANT_COLUMNS} FROM participants WHERE conversation_sid = $1 AND sid = $2",
        conversation_sid, sid,
    )
    return _build(Participant, row)  # type: ignore[no-any-return]


# Messages -----------------------------------------------------------------------------------------

_MESSAGE_COLUMNS = (
    "sid, account_sid, conversation_sid, index, author, body, attributes, participant_sid, content_sid, "
    "date_created, date_updated"
)


async def channel_message_exists(conn: Connection, *, account_sid: str, channel_message_sid: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT true FROM messages WHERE account_sid = $1 AND channel_message_sid = $2",
        account_sid, channel_message_sid,
    ))


async def insert_message(
    conn: Connection, *, account_sid: str, conversation_sid: str, index: int, author: str, body: str | None,
    participant_sid: str | None, attributes: str = "{}", channel_message_sid: str | None = None,
) -> Message:
    row = await conn.fetchrow(
        f"INSERT INTO messages (sid, account_sid, conversation_sid, index, author, body, attributes, participant_sid, "
        f"channel_message_sid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {_MESSAGE_COLUMNS}",
        new_sid("IM"), account_sid, conversation_sid, index, author, body, attributes, participant_sid,
        channel_message_sid,
    )
    return _build(Message, row)  # type: ignore[no-any-return]


async def list_messages(
    conn: Connection, *, conversation_sid: str, after: int | None, before: int | None, limit: int, descending: bool
) -> list[Message]:
    """Keyset over the message index, in display order."""
    forward = not descending
    if before is not None:
        # Paging back: fetch the other way round, then restore display order.
        forward = not forward
        bound = before
    else:
        bound = after
    comparison = ">" if forward else "<"
    direction = "ASC" if forward else "DESC"
    rows = await conn.fetch(
        f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_sid = $1 "
        f"AND ($2::int IS NULL OR index {comparison} $2) ORDER BY index {direction} LIMIT $3",
        conversation_sid, bound, limit,
    )
    messages = [_build(Message, row) for row in rows]
    if before is not None:
        messages.reverse()
    return messages


async def get_message(conn: Connection, *, conversation_sid: str, sid_or_index: str) -> Message | None:
    index = int(sid_or_index) if sid_or_index.isdigit() else None
    row = await conn.fetchrow(
        f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_sid = $1 AND (sid = $2 OR index = $3)",
        conversation_sid, sid_or_index, index,
    )
    return _build(Message, row)  # type: ignore[no-any-return]


# Conversation-scoped webhooks ---------------------------------------------------------------------

_WEBHOOK_COLUMNS = (
    "sid, account_sid, conversation_sid, target, url, method, filters, triggers, flow_sid, origin, "
    "date_created, date_updated"
)


async def insert_scoped_webhook(
    conn: Connection, *, account_sid: str, conversation_sid: str, target: str, url: str | None, method: str | None,
    filters: list[str], origin: str = "api",
) -> ScopedWebhook:
    row = await conn.fetchrow(
        f"INSERT INTO conversation_webhooks (sid, account_sid, conversation_sid, target, url, method, filters, origin) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {_WEBHOOK_COLUMNS}",
        new_sid("WH"), account_sid, conversation_sid, target, url, method, filters, origin,
    )
    return _build(ScopedWebhook, row)  # type: ignore[no-any-return]


async def list_scoped_webhooks(conn: Connection, *, conversation_sid: str) -> list[ScopedWebhook]:
    rows = await conn.fetch(
        f"SELECT {_WEBHOOK_COLUMNS} FROM conversation_webhooks WHERE conversation_sid = $1 ORDER BY date_created, sid",
        conversation_sid,
    )
    return [_build(ScopedWebhook, row) for row in rows]
