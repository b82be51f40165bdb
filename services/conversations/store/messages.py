"""Messages (keyset on the per-conversation index) and their delivery receipts."""

from __future__ import annotations

from typing import Any

from services.conversations.domain.delivery import supersedes
from services.conversations.domain.models import Message, Receipt
from services.conversations.store.base import Connection, build, deleted_one
from shared.sids import new_sid

_MESSAGE_COLUMNS = (
    "sid, account_sid, conversation_sid, index, author, body, attributes, participant_sid, content_sid, "
    "date_created, date_updated, subject"
)
MESSAGE_WRITABLE = ("author", "body", "attributes", "subject", "date_created", "date_updated")


async def channel_message_exists(conn: Connection, *, account_sid: str, channel_message_sid: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT true FROM messages WHERE account_sid = $1 AND channel_message_sid = $2",
        account_sid, channel_message_sid,
    ))


async def insert_message(
    conn: Connection, *, account_sid: str, conversation_sid: str, index: int, author: str, body: str | None,
    participant_sid: str | None, attributes: str = "{}", channel_message_sid: str | None = None, **values: Any,
) -> Message:
    """`values` may carry content_sid, subject, date_created, date_updated."""
    columns = {"author": author, "body": body, "attributes": attributes, "participant_sid": participant_sid,
               "channel_message_sid": channel_message_sid, **{k: v for k, v in values.items() if v is not None}}
    assert set(columns) <= {*MESSAGE_WRITABLE, "participant_sid", "channel_message_sid", "content_sid"}, columns
    names = ["sid", "account_sid", "conversation_sid", "index", *columns]
    placeholders = ", ".join(f"${n}" for n in range(1, len(names) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO messages ({', '.join(names)}) VALUES ({placeholders}) RETURNING {_MESSAGE_COLUMNS}",
        new_sid("IM"), account_sid, conversation_sid, index, *columns.values(),
    )
    return build(Message, row)  # type: ignore[no-any-return]


async def list_messages(
    conn: Connection, *, conversation_sid: str, after: int | None, before: int | None, limit: int, descending: bool
) -> list[Message]:
    """Keyset over the message index, in display order: a late page costs what the first one costs."""
    forward = not descending
    if before is not None:
        # Paging back: fetch the other way round, then restore display order.
        forward = not forward
        bound = before
    else:
        bound = after
    comparison = ">" if forward else "<"
    direction = "ASC" if forward else "DESC"
    # The bound is spelled out only when there is one: `($2 IS NULL OR index > $2)` would keep a
    # prepared statement's generic plan from using the index, making deep pages scan from the start.
    keyset = f"AND index {comparison} $3 " if bound is not None else ""
    rows = await conn.fetch(
        f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_sid = $1 {keyset}"
        f"ORDER BY index {direction} LIMIT $2",
        conversation_sid, limit, *([bound] if bound is not None else []),
    )
    messages = [build(Message, row) for row in rows]
    if before is not None:
        messages.reverse()
    return messages


async def get_message(conn: Connection, *, conversation_sid: str, sid_or_index: str) -> Message | None:
    """By SID or by index, as Twilio allows both in the path."""
    index = int(sid_or_index) if sid_or_index.isdigit() and len(sid_or_index) < 10 else None
    row = await conn.fetchrow(
        f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_sid = $1 AND (sid = $2 OR index = $3)",
        conversation_sid, sid_or_index, index,
    )
    return build(Message, row)  # type: ignore[no-any-return]


async def update_message(conn: Connection, *, sid: str, values: dict[str, Any]) -> Message:
    assert set(values) <= set(MESSAGE_WRITABLE), values
    assignments = [f"{column} = ${n}" for n, column in enumerate(values, start=2)]
    if "date_updated" not in values:
        assignments.append("date_updated = now()")
    row = await conn.fetchrow(
        f"UPDATE messages SET {', '.join(assignments)} WHERE sid = $1 RETURNING {_MESSAGE_COLUMNS}",
        sid, *values.values(),
    )
    return build(Message, row)  # type: ignore[no-any-return]


async def delete_message(conn: Connection, *, sid: str) -> bool:
    return deleted_one(await conn.execute("DELETE FROM messages WHERE sid = $1", sid))


# Receipts ----------------------------------------------------------------------------------------

_RECEIPT_COLUMNS = (
    "sid, account_sid, conversation_sid, message_sid, participant_sid, channel_message_sid, status, error_code, "
    "date_created, date_updated"
)


async def receipt_counts(conn: Connection, *, message_sids: list[str]) -> dict[str, dict[str, int]]:
    """Per message, how many receipts sit in each status: the input of the `delivery` summary."""
    counts: dict[str, dict[str, int]] = {}
    if not message_sids:
        return counts
    rows = await conn.fetch(
        "SELECT message_sid, status, count(*) AS n FROM receipts WHERE message_sid = ANY($1::text[]) "
        "GROUP BY message_sid, status",
        message_sids,
    )
    for row in rows:
        counts.setdefault(row["message_sid"], {})[row["status"]] = int(row["n"])
    return counts


async def upsert_receipt(
    conn: Connection, *, account_sid: str, conversation_sid: str, message_sid: str, participant_sid: str | None,
    channel_message_sid: str | None, status: str, error_code: int = 0,
) -> tuple[Receipt, bool]:
    """Record a provider's report for one recipient; returns the receipt and whether its status changed."""
    previous = await conn.fetchval(
        "SELECT status FROM receipts WHERE message_sid = $1 AND participant_sid IS NOT DISTINCT FROM $2 FOR UPDATE",
        message_sid, participant_sid,
    )
    if not supersedes(status, previous):
        current = await get_receipt_of(conn, message_sid=message_sid, participant_sid=participant_sid)
        return current, False
    row = await conn.fetchrow(
        f"INSERT INTO receipts (sid, account_sid, conversation_sid, message_sid, participant_sid, channel_message_sid, "
        f"status, error_code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        f"ON CONFLICT (message_sid, participant_sid) DO UPDATE SET status = EXCLUDED.status, "
        f"error_code = EXCLUDED.error_code, channel_message_sid = coalesce(EXCLUDED.channel_message_sid, "
        f"receipts.channel_message_sid), date_updated = now() RETURNING {_RECEIPT_COLUMNS}",
        new_sid("DY"), account_sid, conversation_sid, message_sid, participant_sid, channel_message_sid, status,
        error_code,
    )
    return build(Receipt, row), previous != status


async def get_receipt_of(conn: Connection, *, message_sid: str, participant_sid: str | None) -> Receipt:
    row = await conn.fetchrow(
        f"SELECT {_RECEIPT_COLUMNS} FROM receipts WHERE message_sid = $1 AND participant_sid IS NOT DISTINCT FROM $2",
        message_sid, participant_sid,
    )
    return build(Receipt, row)  # type: ignore[no-any-return]


async def list_receipts(conn: Connection, *, message_sid: str, after: str | None, limit: int) -> list[Receipt]:
    rows = await conn.fetch(
        f"SELECT {_RECEIPT_COLUMNS} FROM receipts WHERE message_sid = $1 AND ($2::text IS NULL OR sid > $2) "
        f"ORDER BY sid LIMIT $3",
        message_sid, after, limit,
    )
    return [build(Receipt, row) for row in rows]


async def get_receipt(conn: Connection, *, message_sid: str, sid: str) -> Receipt | None:
    row = await conn.fetchrow(
        f"SELECT {_RECEIPT_COLUMNS} FROM receipts WHERE message_sid = $1 AND sid = $2", message_sid, sid
    )
    return build(Receipt, row)  # type: ignore[no-any-return]
