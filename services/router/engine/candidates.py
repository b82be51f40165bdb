"""The indexed SQL that finds workers able to take a task now: ready channel, queue member, not refused before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.router.domain.models import Task, Worker
from services.router.store.base import Connection
from services.router.store.workers import COLUMNS

# Ready channels come off the partial index in longest-idle order; membership is a primary-key probe.
_CANDIDATES = (
    f"SELECT {COLUMNS}, c.idle_since FROM worker_channels c "
    "JOIN queue_members m ON m.worker_sid = c.worker_sid AND m.task_queue_sid = $1 "
    "JOIN workers w ON w.sid = c.worker_sid JOIN activities a ON a.sid = w.activity_sid "
    "WHERE c.task_channel_sid = $2 AND c.ready AND ($3::text IS NULL OR c.worker_sid = $3) "
    "AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.task_sid = $4 AND r.worker_sid = c.worker_sid "
    "AND r.reservation_status IN ('rejected', 'timeout', 'pending')) "
    "ORDER BY c.idle_since, c.worker_sid LIMIT $5"
)


@dataclass(frozen=True)
class Available:
    worker: Worker
    idle_since: datetime


async def available_workers(conn: Connection, task: Task, *, limit: int) -> list[Available]:
    rows = await conn.fetch(_CANDIDATES, task.task_queue_sid, task.task_channel_sid, task.known_worker_sid, task.sid,
                            limit)
    found = []
    for row in rows:
        values = dict(row)
        idle = values.pop("idle_since")
        found.append(Available(worker=Worker(**values), idle_since=idle))
    return found


async def queue_presence(conn: Connection, task_queue_sid: str) -> tuple[int, int, dict[str, int]]:
    """For `skip_if`: available and unavailable members of the queue, and members per activity SID."""
    rows = await conn.fetch(
        "SELECT w.activity_sid, w.available, count(*) AS n FROM queue_members m JOIN workers w ON w.sid = m.worker_sid "
        "WHERE m.task_queue_sid = $1 GROUP BY w.activity_sid, w.available", task_queue_sid)
    available = sum(row["n"] for row in rows if row["available"])
    unavailable = sum(row["n"] for row in rows if not row["available"])
    return available, unavailable, {row["activity_sid"]: row["n"] for row in rows}
