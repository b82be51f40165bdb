"""The assignment engine's SQL: one statement per step of a dispatch round, whatever the number of reservations.

A round reads the ready worker channels once, the waiting tasks of each queue that can be served,
and the workers each task must not be offered to again; it then writes all its reservations with
set-based statements (arrays unnested), so the cost per reservation is a share of a few round trips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.router.domain.models import Task, TaskQueue, Worker
from services.router.store import tasks, workers
from services.router.store.base import Connection


@dataclass(frozen=True)
class ReadyChannel:
    worker_sid: str
    task_channel_sid: str
    free: int
    idle_since: datetime


async def ready_channels(conn: Connection, *, workspace_sid: str, multi_task: bool,
                         worker_sids: list[str] | None = None) -> list[ReadyChannel]:
    """Channels that can take a task now (of the given workers only, when given). Without multitasking a
    worker holds one task across all channels: one with any task is not ready anywhere, and a free one
    takes one task at most."""
    free = "c.configured_capacity - c.assigned_tasks" if multi_task else "1"
    single = "" if multi_task else (" AND NOT EXISTS (SELECT 1 FROM worker_channels o WHERE o.worker_sid = c.worker_sid "
                                    "AND o.assigned_tasks > 0)")
    select = f"SELECT c.worker_sid, c.task_channel_sid, {free} AS free, c.idle_since FROM worker_channels c WHERE c.ready"
    if worker_sids is None:
        rows = await conn.fetch(f"{select} AND c.workspace_sid = $1{single}", workspace_sid)
    else:
        rows = await conn.fetch(f"{select} AND c.worker_sid = ANY($1::text[]){single}", worker_sids)
    return [ReadyChannel(row["worker_sid"], row["task_channel_sid"], row["free"], row["idle_since"]) for row in rows]


async def changed_workers(conn: Connection, *, workspace_sid: str, since: int | None) -> tuple[set[str], int]:
    """Workers whose channels a transaction wrote that a read marked `since` may not have seen (the row's xmin
    is at or after the oldest transaction running then), and the mark of this read. With `since` None: the mark
    alone. This is how an instance learns of the other instances' reservations without reading every channel."""
    # age() of a frozen row older than 2^31 transactions turns negative: not a change (BETWEEN 0 …).
    row = await conn.fetchrow(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS mark, array(SELECT DISTINCT worker_sid "
        "FROM worker_channels WHERE workspace_sid = $1 "
        "AND age(xmin) BETWEEN 0 AND age(($2::bigint % 4294967296)::text::xid)) AS workers", workspace_sid, since)
    assert row is not None
    return set(row["workers"]), int(row["mark"])


async def waiting_tasks(conn: Connection, wanted: list[tuple[TaskQueue, int]]) -> list[tuple[TaskQueue, Task]]:
    """Each queue's next pending tasks, up to its number (priority, then age; LIFO queues newest first), in
    one statement per task order, locked for this round; tasks another transaction holds (being cancelled,
    updated) are left for a later round. Returned queue after queue, in the order given."""
    found: dict[str, list[Task]] = {}
    for lifo in (False, True):
        some = [(queue.sid, limit) for queue, limit in wanted if (queue.task_order == "LIFO") == lifo]
        if not some:
            continue
        age = "virtual_start_time DESC" if lifo else "virtual_start_time"
        rows = await conn.fetch(
            f"SELECT w.* FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS want(sid, n, i) CROSS JOIN LATERAL "
            f"(SELECT {tasks.COLUMNS} {tasks.FROM} WHERE t.task_queue_sid = want.sid AND t.assignment_status = 'pending' "
            f"ORDER BY t.routing_priority DESC, t.{age}, t.sid LIMIT want.n FOR UPDATE OF t SKIP LOCKED) w "
            f"ORDER BY want.i, w.routing_priority DESC, w.{age}, w.sid",
            [sid for sid, _ in some], [limit for _, limit in some])
        for row in rows:
            found.setdefault(row["task_queue_sid"], []).append(Task(**dict(row)))
    return [(queue, task) for queue, _ in wanted for task in found.get(queue.sid, ())]


async def not_to_offer(conn: Connection, task_sids: list[str]) -> dict[str, set[str]]:
    """Per task, the workers it must not be offered to now: those holding a pending offer of it (once at a time),
    and for a task of an interaction channel (an invite, a transfer), the agents already in that channel.

    A worker who rejected the task or let an offer lapse is not among them: as in TaskRouter, the task goes
    back to pending and may be offered to them again. What keeps it away from them is their activity (the
    reject's WorkerActivitySid, the workspace's TimeoutActivitySid) or the workflow's targets."""
    rows = await conn.fetch(
        "SELECT task_sid, worker_sid FROM reservations WHERE task_sid = ANY($1::text[]) "
        "AND reservation_status = 'pending' "
        "UNION SELECT t.task_sid, p.worker_sid FROM interaction_tasks t JOIN interaction_participants p "
        "ON p.channel_sid = t.channel_sid WHERE t.task_sid = ANY($1::text[]) AND p.type = 'agent' "
        "AND p.status IN ('joined', 'wrapup') AND p.worker_sid IS NOT NULL", task_sids)
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["task_sid"], set()).add(row["worker_sid"])
    return found


async def lock_workers(conn: Connection, worker_sids: list[str]) -> None:
    """Workers the round will move to an activity, locked before their channels (the global lock order)."""
    await conn.execute("SELECT 1 FROM workers WHERE sid = ANY($1::text[]) ORDER BY sid FOR UPDATE", worker_sids)


async def take_capacity(conn: Connection, *, worker_sids: list[str], channel_sids: list[str], queue_sids: list[str],
                        multi_task: bool) -> list[int]:
    """The guard: capacity for each pick (worker, channel, queue) is taken only if the worker is still a member
    of the queue and the channel can still hold all of the round's picks for it; returns the granted indexes."""
    rows = await conn.fetch(
        "WITH picks AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY "
        "  AS p(worker_sid, task_channel_sid, task_queue_sid, i)), "
        "valid AS (SELECT p.* FROM picks p JOIN queue_members m ON m.task_queue_sid = p.task_queue_sid "
        "  AND m.worker_sid = p.worker_sid), "
        "wanted AS (SELECT worker_sid, task_channel_sid, count(*)::int AS n FROM valid GROUP BY 1, 2), "
        "taken AS (UPDATE worker_channels c SET assigned_tasks = c.assigned_tasks + w.n FROM wanted w "
        "  WHERE c.worker_sid = w.worker_sid AND c.task_channel_sid = w.task_channel_sid AND c.ready "
        "  AND c.assigned_tasks + w.n <= c.configured_capacity "
        "  AND ($4 OR (w.n = 1 AND NOT EXISTS (SELECT 1 FROM worker_channels o WHERE o.worker_sid = c.worker_sid "
        "  AND o.assigned_tasks > 0))) RETURNING c.worker_sid, c.task_channel_sid) "
        "SELECT v.i FROM valid v JOIN taken t USING (worker_sid, task_channel_sid)",
        worker_sids, channel_sids, queue_sids, multi_task,
    )
    return sorted(int(row["i"]) - 1 for row in rows)


@dataclass(frozen=True)
class NewReservation:
    sid: str
    task_sid: str
    worker_sid: str
    task_queue_sid: str
    task_channel_sid: str
    expires_at: datetime


async def insert_reservations(conn: Connection, *, account_sid: str, workspace_sid: str,
                              offers: list[NewReservation]) -> datetime:
    """All of the round's reservations in one statement; returns their creation time."""
    created = await conn.fetchval(
        "WITH added AS (INSERT INTO reservations (sid, account_sid, workspace_sid, task_sid, worker_sid, task_queue_sid, "
        "task_channel_sid, expires_at, date_created, date_updated) SELECT s, $1, $2, t, w, q, c, e, "
        "clock_timestamp(), clock_timestamp() FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], "
        "$8::timestamptz[]) AS x(s, t, w, q, c, e) RETURNING date_created) SELECT min(date_created) FROM added",
        account_sid, workspace_sid, [o.sid for o in offers], [o.task_sid for o in offers],
        [o.worker_sid for o in offers], [o.task_queue_sid for o in offers], [o.task_channel_sid for o in offers],
        [o.expires_at for o in offers],
    )
    return created  # type: ignore[no-any-return]


async def mark_reserved(conn: Connection, task_sids: list[str]) -> None:
    await conn.execute(
        "UPDATE tasks SET assignment_status = 'reserved', date_updated = clock_timestamp() "
        "WHERE sid = ANY($1::text[]) AND assignment_status IN ('pending', 'reserved')", task_sids)


async def workers_by_sid(conn: Connection, worker_sids: list[str]) -> dict[str, Worker]:
    rows = await conn.fetch(f"{workers.SELECT} WHERE w.sid = ANY($1::text[])", worker_sids)
    return {row["sid"]: Worker(**dict(row)) for row in rows}
