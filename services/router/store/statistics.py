"""The SQL behind statistics: live counts from tasks and workers, cumulative figures from the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.router.store.base import Connection


async def tasks_by_status(conn: Connection, *, workspace_sid: str, task_queue_sid: str | None = None,
                          workflow_sid: str | None = None, task_channel: str | None = None) -> dict[str, Any]:
    rows = await conn.fetch(
        "SELECT t.assignment_status, t.priority, count(*) AS n, min(t.date_created) AS oldest FROM tasks t "
        "JOIN task_channels c ON c.sid = t.task_channel_sid WHERE t.workspace_sid = $1 "
        "AND ($2::text IS NULL OR t.task_queue_sid = $2) AND ($3::text IS NULL OR t.workflow_sid = $3) "
        "AND ($4::text IS NULL OR c.unique_name = $4 OR c.sid = $4) "
        "AND t.assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping') "
        "GROUP BY t.assignment_status, t.priority",
        workspace_sid, task_queue_sid, workflow_sid, task_channel,
    )
    by_status = {"pending": 0, "reserved": 0, "assigned": 0, "wrapping": 0}
    by_priority: dict[str, int] = {}
    for row in rows:
        by_status[row["assignment_status"]] += row["n"]
        if row["assignment_status"] in ("pending", "reserved"):
            by_priority[str(row["priority"])] = by_priority.get(str(row["priority"]), 0) + row["n"]
    oldest = await conn.fetchrow(
        "SELECT sid, date_created, task_queue_entered_date FROM tasks WHERE workspace_sid = $1 "
        "AND ($2::text IS NULL OR task_queue_sid = $2) AND ($3::text IS NULL OR workflow_sid = $3) "
        "AND assignment_status IN ('pending', 'reserved') ORDER BY date_created LIMIT 1",
        workspace_sid, task_queue_sid, workflow_sid,
    )
    return {"by_status": by_status, "by_priority": by_priority, "total": sum(by_status.values()), "oldest": oldest}


async def workers_by_activity(conn: Connection, *, workspace_sid: str, task_queue_sid: str | None = None) -> list[Any]:
    return list(await conn.fetch(
        "SELECT a.sid, a.friendly_name, a.available, count(w.sid) AS workers FROM activities a "
        "LEFT JOIN workers w ON w.activity_sid = a.sid AND ($2::text IS NULL OR EXISTS "
        "(SELECT 1 FROM queue_members m WHERE m.worker_sid = w.sid AND m.task_queue_sid = $2)) "
        "WHERE a.workspace_sid = $1 GROUP BY a.sid, a.friendly_name, a.available ORDER BY a.date_created",
        workspace_sid, task_queue_sid,
    ))


async def wait_durations(conn: Connection, *, workspace_sid: str, start: datetime, end: datetime,
                         column: str | None, value: str | None) -> dict[str, Any]:
    """Task age at acceptance and at cancellation, for tasks that reached those states in the window."""
    assert column in (None, "task_queue_sid", "workflow_sid", "worker_sid")
    scope = f"AND r.{column} = $4" if column in ("task_queue_sid", "worker_sid") else (
        "AND t.workflow_sid = $4" if column else "AND $4::text IS NULL")
    accepted = await conn.fetchrow(
        "SELECT avg(s) AS avg, min(s) AS min, max(s) AS max, sum(s) AS total, count(*) AS n FROM ("
        "SELECT extract(epoch FROM r.date_updated - t.date_created) AS s FROM reservations r JOIN tasks t "
        f"ON t.sid = r.task_sid WHERE r.workspace_sid = $1 AND r.reservation_status IN ('accepted', 'wrapping', "
        f"'completed') AND r.date_updated BETWEEN $2 AND $3 {scope}) x",
        workspace_sid, start, end, value,
    )
    task_scope = scope.replace("r.", "t.") if column != "worker_sid" else "AND $4::text IS NOT NULL AND false"
    canceled = await conn.fetchrow(
        "SELECT avg(s) AS avg, min(s) AS min, max(s) AS max, sum(s) AS total FROM ("
        "SELECT extract(epoch FROM t.date_updated - t.date_created) AS s FROM tasks t WHERE t.workspace_sid = $1 "
        f"AND t.assignment_status = 'canceled' AND t.date_updated BETWEEN $2 AND $3 {task_scope}) x",
        workspace_sid, start, end, value,
    )
    return {"accepted": accepted, "canceled": canceled}


async def activity_durations(conn: Connection, *, workspace_sid: str, start: datetime, end: datetime,
                             worker_sid: str | None = None) -> dict[str, Any]:
    """Seconds spent in each activity within the window, from the workers' activity history (the event log).

    Each stint (one worker, one activity, until its next change or deletion) is clipped to the window;
    min/max/avg are over the stints, total is their sum. Keyed by activity SID.
    """
    rows = await conn.fetch(
        "WITH changes AS (SELECT worker_sid, seq, event_date AS at, "
        "  CASE WHEN event_type = 'worker.deleted' THEN NULL ELSE event_data->>'worker_activity_sid' END AS activity "
        "  FROM events WHERE workspace_sid = $1 AND event_type IN ('worker.created', 'worker.activity.update', "
        "  'worker.deleted') AND event_date < $3 AND ($4::text IS NULL OR worker_sid = $4)), "
        "stints AS (SELECT activity, at AS began, lead(at) OVER (PARTITION BY worker_sid ORDER BY at, seq) AS ended "
        "  FROM changes), "
        "clipped AS (SELECT activity, extract(epoch FROM least(coalesce(ended, $3), $3) - greatest(began, $2)) AS s "
        "  FROM stints WHERE activity IS NOT NULL AND coalesce(ended, $3) > $2) "
        "SELECT activity, min(s) AS min, max(s) AS max, avg(s) AS avg, sum(s) AS total FROM clipped GROUP BY activity",
        workspace_sid, start, end, worker_sid,
    )
    return {row["activity"]: row for row in rows}
