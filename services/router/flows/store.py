"""Flows (FW…) and their executions, one per conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.router.store.base import Connection, Keyset, assignments, build, fetch_page, touched_one
from shared.sids import new_sid
from shared.sql import Query

COLUMNS = "sid, account_sid, friendly_name, definition, date_created, date_updated"


@dataclass(frozen=True)
class Flow:
    sid: str
    account_sid: str
    friendly_name: str
    definition: dict[str, Any]
    date_created: datetime
    date_updated: datetime


def _flow(row: Any) -> Flow | None:
    if row is None:
        return None
    return build(Flow, row)  # type: ignore[no-any-return]


async def insert_flow(conn: Connection, *, account_sid: str, friendly_name: str, definition: dict[str, Any]) -> Flow:
    row = await conn.fetchrow(
        f"INSERT INTO flows (sid, account_sid, friendly_name, definition) VALUES ($1, $2, $3, $4::jsonb) "
        f"RETURNING {COLUMNS}", new_sid("FW"), account_sid, friendly_name, definition)
    return _flow(row)  # type: ignore[return-value]


async def get_flow(conn: Connection, *, account_sid: str, sid: str) -> Flow | None:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM flows WHERE account_sid = $1 AND sid = $2", account_sid, sid)
    return _flow(row)


async def list_flows(conn: Connection, *, account_sid: str, keyset: Keyset) -> list[Flow]:
    rows = await fetch_page(conn, select=f"SELECT {COLUMNS} FROM flows",
                            query=Query().where("account_sid = {}", account_sid), keyset=keyset,
                            date_column="date_created", sid_column="sid")
    return [_flow(row) for row in rows]  # type: ignore[misc]


async def update_flow(conn: Connection, *, sid: str, values: dict[str, Any]) -> Flow:
    sets, params = assignments(values, ("friendly_name", "definition"))
    row = await conn.fetchrow(f"UPDATE flows SET {sets} WHERE sid = $1 RETURNING {COLUMNS}", sid, *params)
    return _flow(row)  # type: ignore[return-value]


async def delete_flow(conn: Connection, *, sid: str) -> bool:
    return touched_one(await conn.execute("DELETE FROM flows WHERE sid = $1", sid))


async def start_execution(conn: Connection, *, account_sid: str, conversation_sid: str, flow_sid: str,
                          message_sid: str | None) -> bool:
    """Claims the conversation for one execution, started by that message; False when it has (or had) one already."""
    result = await conn.execute(
        "INSERT INTO flow_executions (account_sid, conversation_sid, flow_sid, last_message_sid) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (conversation_sid) DO NOTHING",
        account_sid, conversation_sid, flow_sid, message_sid)
    return bool(result.endswith(" 1"))


async def take_message(conn: Connection, *, conversation_sid: str, message_sid: str | None) -> None:
    """The waiting execution goes on with this customer message."""
    await conn.execute("UPDATE flow_executions SET last_message_sid = $2 WHERE conversation_sid = $1",
                       conversation_sid, message_sid)


async def flow_has_message(conn: Connection, *, conversation_sid: str, message_sid: str) -> bool:
    """The conversation's flow waits for the customer's answer, or went on with this very message: either way
    the message is the flow's. A resume with it that has not committed yet still reads as waiting."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM flow_executions WHERE conversation_sid = $1 "
        "AND (status IN ('active', 'waiting') OR last_message_sid = $2))", conversation_sid, message_sid))


@dataclass(frozen=True)
class Execution:
    conversation_sid: str
    account_sid: str
    flow_sid: str
    current_state: str | None
    variables: dict[str, Any]
    status: str
    trigger: dict[str, Any]
    widgets: dict[str, Any]


EXECUTION_COLUMNS = "conversation_sid, account_sid, flow_sid, current_state, variables, status, trigger, widgets"


async def lock_execution(conn: Connection, *, conversation_sid: str) -> Execution | None:
    row = await conn.fetchrow(f"SELECT {EXECUTION_COLUMNS} FROM flow_executions WHERE conversation_sid = $1 "
                              f"FOR UPDATE", conversation_sid)
    return build(Execution, row)  # type: ignore[no-any-return]


async def lock_due_wait(conn: Connection, *, now: datetime) -> Execution | None:
    """One execution whose wait for a reply is over, locked; another router instance takes the next."""
    row = await conn.fetchrow(
        f"SELECT {EXECUTION_COLUMNS} FROM flow_executions WHERE status = 'waiting' AND wait_until <= $1 "
        f"ORDER BY wait_until LIMIT 1 FOR UPDATE SKIP LOCKED", now)
    return build(Execution, row)  # type: ignore[no-any-return]


async def finish_execution(conn: Connection, *, conversation_sid: str, state: str | None,
                           variables: dict[str, Any], status: str, trigger: dict[str, Any] | None = None,
                           widgets: dict[str, Any] | None = None, wait_seconds: int | None = None) -> None:
    """The walk's outcome; a waiting walk keeps what it needs to go on, and when its wait ends."""
    await conn.execute(
        "UPDATE flow_executions SET current_state = $2, variables = $3::jsonb, status = $4, "
        "trigger = $5::jsonb, widgets = $6::jsonb, "
        "wait_until = CASE WHEN $4 = 'waiting' THEN clock_timestamp() + make_interval(secs => $7) END, "
        "date_updated = clock_timestamp() WHERE conversation_sid = $1",
        conversation_sid, state, variables, status, trigger or {}, widgets or {}, float(wait_seconds or 0))
