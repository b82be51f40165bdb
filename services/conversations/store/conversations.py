"""Conversations: rows, lookups by SID or UniqueName, keyset lists, states and the due timers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.conversations.domain.models import Conversation
from services.conversations.store.base import Connection, build, deleted_one
from shared.sids import new_sid
from shared.sql import Query

_CONVERSATION_COLUMNS = (
    "sid, account_sid, chat_service_sid, messaging_service_sid, friendly_name, unique_name, attributes, state, "
    "timer_inactive, timer_closed, date_inactive, date_closed, date_created, date_updated"
)
CONVERSATION_WRITABLE = (
    "messaging_service_sid", "friendly_name", "unique_name", "attributes", "state", "timer_inactive", "timer_closed",
    "date_inactive", "date_closed", "date_created", "date_updated",
)


async def insert_conversation(
    conn: Connection, *, account_sid: str, chat_service_sid: str, friendly_name: str | None = None,
    unique_name: str | None = None, attributes: str = "{}", state: str = "active", **values: Any,
) -> Conversation:
    """`values` may carry any of CONVERSATION_WRITABLE (timers, due times, dates given by the caller)."""
    columns = {"friendly_name": friendly_name, "unique_name": unique_name, "attributes": attributes, "state": state,
               **{key: value for key, value in values.items() if value is not None}}
    unknown = set(columns) - set(CONVERSATION_WRITABLE)
    assert not unknown, unknown
    names = ["sid", "account_sid", "chat_service_sid", *columns]
    placeholders = ", ".join(f"${n}" for n in range(1, len(names) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO conversations ({', '.join(names)}) VALUES ({placeholders}) RETURNING {_CONVERSATION_COLUMNS}",
        new_sid("CH"), account_sid, chat_service_sid, *columns.values(),
    )
    return build(Conversation, row)  # type: ignore[no-any-return]


async def get_conversation(
    conn: Connection, *, account_sid: str, sid_or_unique_name: str, chat_service_sid: str | None = None,
    for_update: bool = False,
) -> Conversation | None:
    """By SID or UniqueName (a SID wins when both match), within one service when one is given."""
    row = await conn.fetchrow(
        f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE account_sid = $1 "
        f"AND (sid = $2 OR unique_name = $2) AND ($3::text IS NULL OR chat_service_sid = $3) "
        f"ORDER BY sid = $2 DESC LIMIT 1{' FOR UPDATE' if for_update else ''}",
        account_sid, sid_or_unique_name, chat_service_sid,
    )
    return build(Conversation, row)  # type: ignore[no-any-return]


async def update_conversation(conn: Connection, *, sid: str, values: dict[str, Any]) -> Conversation:
    """Write the given columns; `date_updated` is now() unless the caller gives one."""
    assert set(values) <= set(CONVERSATION_WRITABLE), values
    assignments = [f"{column} = ${n}" for n, column in enumerate(values, start=2)]
    if "date_updated" not in values:
        assignments.append("date_updated = now()")
    row = await conn.fetchrow(
        f"UPDATE conversations SET {', '.join(assignments)} WHERE sid = $1 RETURNING {_CONVERSATION_COLUMNS}",
        sid, *values.values(),
    )
    return build(Conversation, row)  # type: ignore[no-any-return]


async def set_conversation_state(
    conn: Connection, *, sid: str, state: str, date_inactive: datetime | None = None, date_closed: datetime | None = None,
) -> Conversation:
    """Move to `state` with the given due times; closing releases every address pair the conversation held."""
    if state == "closed":
        await release_bindings(conn, conversation_sid=sid)
    return await update_conversation(
        conn, sid=sid, values={"state": state, "date_inactive": date_inactive, "date_closed": date_closed}
    )


async def release_bindings(conn: Connection, *, conversation_sid: str) -> None:
    await conn.execute("DELETE FROM bound_addresses WHERE conversation_sid = $1", conversation_sid)


async def restart_timers(conn: Connection, *, sid: str, scale: float) -> None:
    """New activity: the timers count again from now (the inactive one only while active)."""
    await conn.execute(
        "UPDATE conversations SET "
        "date_inactive = CASE WHEN state = 'active' AND timer_inactive IS NOT NULL THEN now() + timer_inactive * $2 END, "
        "date_closed = CASE WHEN state <> 'closed' AND timer_closed IS NOT NULL THEN now() + timer_closed * $2 END "
        "WHERE sid = $1 AND (timer_inactive IS NOT NULL OR timer_closed IS NOT NULL)",
        sid, scale,
    )


async def delete_conversation(conn: Connection, *, sid: str) -> bool:
    return deleted_one(await conn.execute("DELETE FROM conversations WHERE sid = $1", sid))


async def list_conversations(
    conn: Connection, *, account_sid: str, chat_service_sid: str | None = None, state: str | None = None,
    start: datetime | None = None, end: datetime | None = None, after: list[Any] | None = None,
    before: list[Any] | None = None, limit: int, descending: bool = False, participant_identity: str | None = None,
) -> list[Conversation]:
    """Keyset over (date_created, sid) in display order; `after`/`before` are the key seen last, [iso date, sid].
    With `participant_identity`, only the conversations that chat identity takes part in."""
    bound = after or before
    key = [datetime.fromisoformat(bound[0]), bound[1]] if bound else []
    # Paging back runs the other way round, then restores display order.
    forward = (not descending) if before is None else descending
    comparison, direction = (">", "ASC") if forward else ("<", "DESC")
    # Only the filters given become SQL, so the planner can use the keyset as an index bound.
    filters = Query().where("account_sid = {}", account_sid)
    filters.maybe("chat_service_sid = {}", chat_service_sid)
    filters.maybe("state = {}", state)
    filters.maybe("date_created >= {}", start)
    filters.maybe("date_created <= {}", end)
    filters.maybe("sid IN (SELECT conversation_sid FROM participants WHERE identity = {})", participant_identity)
    if bound:
        filters.where(f"(date_created, sid) {comparison} ({{}}::timestamptz, {{}}::text)", key[0], key[1])
    rows = await conn.fetch(
        f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE {filters.clause()} "
        f"ORDER BY date_created {direction}, sid {direction} LIMIT {filters.param(limit)}",
        *filters.params,
    )
    conversations = [build(Conversation, row) for row in rows]
    if before is not None:
        conversations.reverse()
    return conversations


async def next_message_index(conn: Connection, *, conversation_sid: str) -> int:
    """Take the conversation's next index; the row lock orders concurrent writers."""
    return int(await conn.fetchval(
        "UPDATE conversations SET last_message_index = last_message_index + 1, date_updated = now() "
        "WHERE sid = $1 RETURNING last_message_index",
        conversation_sid,
    ))


async def claim_due_conversations(conn: Connection, *, limit: int) -> list[Conversation]:
    """Conversations whose timer is due, locked; SKIP LOCKED lets several instances share the sweep."""
    rows = await conn.fetch(
        f"SELECT {_CONVERSATION_COLUMNS} FROM conversations "
        f"WHERE (state = 'active' AND date_inactive <= now()) OR (state IN ('active', 'inactive') AND date_closed <= now()) "
        f"ORDER BY least(date_inactive, date_closed) LIMIT $1 FOR UPDATE SKIP LOCKED",
        limit,
    )
    return [build(Conversation, row) for row in rows]
