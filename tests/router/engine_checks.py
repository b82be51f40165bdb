"""Checks read straight from the router's tables: the event log replayed, capacity counters reconciled."""

from __future__ import annotations

from collections import defaultdict

import asyncpg

from shared.settings import Settings

ENDS = ("reservation.rejected", "reservation.timeout", "reservation.canceled", "reservation.rescinded",
        "reservation.completed")


async def router_connection(settings: Settings) -> asyncpg.Connection:
    conn = await asyncpg.connect(settings.database_url)
    await conn.execute(f'SET search_path TO "{settings.schema_name("router")}"')
    return conn


async def most_ever_held(conn: asyncpg.Connection, workspace_sid: str) -> dict[tuple[str, str], int]:
    """Replay reservation events in log order: the most tasks each worker channel ever held at once.

    Log order is commit order for one worker channel: taking capacity waits on the row lock of the
    transaction that released it, so a later reservation's event always has a larger sequence.
    """
    rows = await conn.fetch(
        "SELECT event_type, worker_sid, task_channel FROM events WHERE workspace_sid = $1 "
        "AND event_type LIKE 'reservation.%' ORDER BY seq", workspace_sid)
    held: dict[tuple[str, str], int] = defaultdict(int)
    peak: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        key = (row["worker_sid"], row["task_channel"])
        if row["event_type"] == "reservation.created":
            held[key] += 1
            peak[key] = max(peak[key], held[key])
        elif row["event_type"] in ENDS:
            held[key] -= 1
    return dict(peak)


async def capacity_leaks(conn: asyncpg.Connection, workspace_sid: str) -> list[asyncpg.Record]:
    """Worker channels whose counter disagrees with the reservations that hold capacity on them."""
    return list(await conn.fetch(
        "SELECT c.worker_sid, c.task_channel_sid, c.assigned_tasks, "
        "(SELECT count(*) FROM reservations r WHERE r.worker_sid = c.worker_sid "
        " AND r.task_channel_sid = c.task_channel_sid AND r.holds_capacity) AS holding "
        "FROM worker_channels c WHERE c.workspace_sid = $1 AND c.assigned_tasks <> "
        "(SELECT count(*) FROM reservations r WHERE r.worker_sid = c.worker_sid "
        " AND r.task_channel_sid = c.task_channel_sid AND r.holds_capacity)", workspace_sid))
