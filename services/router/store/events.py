"""The workspace event log (Events API), written with every state change."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from services.router.domain.models import Event
from services.router.store.base import Connection, Keyset, build, fetch_page
from shared.sql import Query

COLUMNS = (
    "seq, sid, account_sid, workspace_sid, event_type, resource_type, resource_sid, description, actor_type, actor_sid, "
    "source, task_sid, worker_sid, reservation_sid, task_queue_sid, workflow_sid, task_channel, event_data, event_date"
)
INSERTED = ("sid", "account_sid", "workspace_sid", "event_type", "resource_type", "resource_sid", "description",
            "actor_type", "actor_sid", "task_sid", "worker_sid", "reservation_sid", "task_queue_sid", "workflow_sid",
            "task_channel", "event_data")


async def insert_event(conn: Connection, values: dict[str, Any]) -> datetime:
    placeholders = ", ".join(f"${n}" for n in range(1, len(INSERTED) + 1))
    return await conn.fetchval(  # type: ignore[no-any-return]
        f"INSERT INTO events ({', '.join(INSERTED)}) VALUES ({placeholders}) RETURNING event_date",
        *(values.get(name) for name in INSERTED),
    )


async def insert_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Many events in one statement, a column array each (the dispatcher's round)."""
    text_columns = INSERTED[:-1]  # event_data last: sent as JSON text, cast by the server
    unnested = ", ".join(f"${n}::text[]" for n in range(1, len(INSERTED) + 1))
    await conn.execute(
        f"INSERT INTO events ({', '.join(INSERTED)}) SELECT {', '.join(text_columns)}, event_data::jsonb "
        f"FROM unnest({unnested}) AS e({', '.join(INSERTED)})",
        *([values.get(name) for values in rows] for name in text_columns),
        [json.dumps(values["event_data"]) for values in rows])


async def get_event(conn: Connection, *, workspace_sid: str, sid: str) -> Event | None:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM events WHERE sid = $1 AND workspace_sid = $2", sid, workspace_sid)
    return build(Event, row)  # type: ignore[no-any-return]


async def list_events(conn: Connection, *, workspace_sid: str, keyset: Keyset, filters: dict[str, Any],
                      start: datetime | None, end: datetime | None) -> list[Event]:
    query = Query().where("workspace_sid = {}", workspace_sid)
    for column, value in filters.items():
        query.maybe(f"{column} = {{}}", value)
    query.maybe("event_date >= {}", start).maybe("event_date <= {}", end)
    rows = await fetch_page(conn, select=f"SELECT {COLUMNS} FROM events", query=query, keyset=keyset,
                            date_column="event_date", sid_column="sid")
    return [build(Event, row) for row in rows]


async def count_events(conn: Connection, *, workspace_sid: str, start: datetime, end: datetime,
                       column: str | None = None, value: str | None = None, task_channel: str | None = None) -> dict[str, int]:
    """How many events of each type in the window, optionally for one queue, worker or workflow."""
    assert column in (None, "task_queue_sid", "worker_sid", "workflow_sid")
    extra = f" AND {column} = $4" if column else " AND $4::text IS NULL"
    rows = await conn.fetch(
        f"SELECT event_type, count(*) AS n FROM events WHERE workspace_sid = $1 AND event_date >= $2 "
        f"AND event_date <= $3{extra} AND ($5::text IS NULL OR task_channel = $5) GROUP BY event_type",
        workspace_sid, start, end, value, task_channel,
    )
    return {row["event_type"]: int(row["n"]) for row in rows}
