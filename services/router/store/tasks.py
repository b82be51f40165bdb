"""Tasks and their routing state (step, deadlines), written only by handlers and the engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.router.domain.models import Task
from services.router.store.base import Connection, Keyset, assignments, build, fetch_page, touched_one
from shared.sids import new_sid
from shared.sql import Query

COLUMNS = (
    "t.sid, t.account_sid, t.workspace_sid, t.attributes, t.assignment_status, t.priority, t.reason, t.timeout, "
    "t.task_channel_sid, c.unique_name AS task_channel_unique_name, t.workflow_sid, "
    "f.friendly_name AS workflow_friendly_name, t.task_queue_sid, q.friendly_name AS task_queue_friendly_name, "
    "t.task_queue_entered_date, t.routing_target, t.ignore_capacity, t.virtual_start_time, t.filter_index, "
    "t.target_index, t.routing_priority, t.target_expression, t.target_order_by, t.target_skip_if, t.known_worker_sid, "
    "t.step_tried, t.step_deadline, t.expires_at, t.date_created, t.date_updated"
)
FROM = ("FROM tasks t JOIN task_channels c ON c.sid = t.task_channel_sid LEFT JOIN workflows f ON f.sid = t.workflow_sid "
        "LEFT JOIN task_queues q ON q.sid = t.task_queue_sid")
SELECT = f"SELECT {COLUMNS} {FROM}"
WRITABLE = (
    "attributes", "assignment_status", "priority", "reason", "task_channel_sid", "workflow_sid", "task_queue_sid",
    "task_queue_entered_date", "virtual_start_time", "filter_index", "target_index", "routing_priority",
    "target_expression", "target_order_by", "target_skip_if", "known_worker_sid", "step_tried", "step_deadline",
    "expires_at",
)


async def insert_task(conn: Connection, *, account_sid: str, workspace_sid: str, values: dict[str, Any]) -> str:
    sid = new_sid("WT")
    names = ["sid", "account_sid", "workspace_sid", *values]
    placeholders = ", ".join(f"${n}" for n in range(1, len(names) + 1))
    await conn.execute(f"INSERT INTO tasks ({', '.join(names)}) VALUES ({placeholders})",
                       sid, account_sid, workspace_sid, *values.values())
    return sid


async def get_task(conn: Connection, *, workspace_sid: str, sid: str, for_update: bool = False) -> Task | None:
    if for_update:
        # Lock the task row alone; the joined names are read in the same statement.
        await conn.execute("SELECT 1 FROM tasks WHERE sid = $1 FOR UPDATE", sid)
    row = await conn.fetchrow(f"{SELECT} WHERE t.sid = $1 AND t.workspace_sid = $2", sid, workspace_sid)
    return build(Task, row)  # type: ignore[no-any-return]


async def list_tasks(conn: Connection, *, workspace_sid: str, keyset: Keyset, priority: int | None = None,
                     statuses: list[str] | None = None, workflow_sid: str | None = None, workflow_name: str | None = None,
                     task_queue_sid: str | None = None, task_queue_name: str | None = None) -> list[Task]:
    query = (
        Query().where("t.workspace_sid = {}", workspace_sid).maybe("t.priority = {}", priority)
        .maybe("t.assignment_status = ANY({}::text[])", statuses).maybe("t.workflow_sid = {}", workflow_sid)
        .maybe("f.friendly_name = {}", workflow_name).maybe("t.task_queue_sid = {}", task_queue_sid)
        .maybe("q.friendly_name = {}", task_queue_name)
    )
    rows = await fetch_page(conn, select=SELECT, query=query, keyset=keyset, date_column="t.date_created",
                            sid_column="t.sid")
    return [build(Task, row) for row in rows]


async def update_task(conn: Connection, *, sid: str, values: dict[str, Any]) -> None:
    sets, params = assignments(values, WRITABLE)
    await conn.execute(f"UPDATE tasks SET {sets} WHERE sid = $1", sid, *params)


async def move_task_status(conn: Connection, *, sid: str, from_statuses: list[str], to_status: str,
                           reason: str | None = None) -> bool:
    """Guarded status move: true only when the task was in one of `from_statuses`."""
    return touched_one(await conn.execute(
        "UPDATE tasks SET assignment_status = $3, reason = COALESCE($4, reason), date_updated = clock_timestamp() "
        "WHERE sid = $1 AND assignment_status = ANY($2::text[])",
        sid, from_statuses, to_status, reason,
    ))


async def delete_task(conn: Connection, *, sid: str) -> bool:
    return touched_one(await conn.execute("DELETE FROM tasks WHERE sid = $1", sid))


async def workspaces_with_pending_tasks(conn: Connection) -> list[str]:
    rows = await conn.fetch("SELECT DISTINCT workspace_sid FROM tasks WHERE assignment_status = 'pending'")
    return [row["workspace_sid"] for row in rows]


async def due_task_sids(conn: Connection, *, now: datetime, limit: int) -> list[tuple[str, str, str]]:
    """Tasks whose TTL passed or whose routing step timed out: (workspace, sid, which)."""
    rows = await conn.fetch(
        "(SELECT workspace_sid, sid, 'expired' AS due FROM tasks WHERE assignment_status IN ('pending', 'reserved') "
        " AND expires_at <= $1 ORDER BY expires_at LIMIT $2) UNION ALL "
        "(SELECT workspace_sid, sid, 'step' FROM tasks WHERE assignment_status = 'pending' AND step_deadline <= $1 "
        " ORDER BY step_deadline LIMIT $2)",
        now, limit,
    )
    return [(row["workspace_sid"], row["sid"], row["due"]) for row in rows]


async def lock_task_if(conn: Connection, *, sid: str, statuses: list[str]) -> bool:
    """Lock a task for a timer, skipping it when another instance holds it or it moved on."""
    return bool(await conn.fetchval(
        "SELECT true FROM tasks WHERE sid = $1 AND assignment_status = ANY($2::text[]) FOR UPDATE SKIP LOCKED",
        sid, statuses,
    ))
