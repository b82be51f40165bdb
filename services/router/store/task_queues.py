"""Task queues, with the names of their reservation and assignment activities."""

from __future__ import annotations

from typing import Any

from services.router.domain.models import TaskQueue
from services.router.store.base import Connection, Keyset, assignments, build, fetch_page, touched_one
from shared.sids import new_sid
from shared.sql import Query

COLUMNS = (
    "q.sid, q.account_sid, q.workspace_sid, q.friendly_name, q.target_workers, q.max_reserved_workers, q.task_order, "
    "q.reservation_activity_sid, r.friendly_name AS reservation_activity_name, q.assignment_activity_sid, "
    "s.friendly_name AS assignment_activity_name, q.date_created, q.date_updated"
)
SELECT = (f"SELECT {COLUMNS} FROM task_queues q LEFT JOIN activities r ON r.sid = q.reservation_activity_sid "
          f"LEFT JOIN activities s ON s.sid = q.assignment_activity_sid")
WRITABLE = ("friendly_name", "target_workers", "max_reserved_workers", "task_order", "reservation_activity_sid",
            "assignment_activity_sid")


async def insert_task_queue(conn: Connection, *, account_sid: str, workspace_sid: str, values: dict[str, Any]) -> str:
    sid = new_sid("WQ")
    names = ["sid", "account_sid", "workspace_sid", *values]
    placeholders = ", ".join(f"${n}" for n in range(1, len(names) + 1))
    await conn.execute(f"INSERT INTO task_queues ({', '.join(names)}) VALUES ({placeholders})",
                       sid, account_sid, workspace_sid, *values.values())
    return sid


async def get_task_queue(conn: Connection, *, workspace_sid: str, sid: str) -> TaskQueue | None:
    row = await conn.fetchrow(f"{SELECT} WHERE q.sid = $1 AND q.workspace_sid = $2", sid, workspace_sid)
    return build(TaskQueue, row)  # type: ignore[no-any-return]


async def list_task_queues(conn: Connection, *, workspace_sid: str, keyset: Keyset, friendly_name: str | None = None,
                           worker_sid: str | None = None) -> list[TaskQueue]:
    query = (Query().where("q.workspace_sid = {}", workspace_sid).maybe("q.friendly_name = {}", friendly_name)
             .maybe("EXISTS (SELECT 1 FROM queue_members m WHERE m.task_queue_sid = q.sid AND m.worker_sid = {})",
                    worker_sid))
    rows = await fetch_page(conn, select=SELECT, query=query, keyset=keyset, date_column="q.date_created",
                            sid_column="q.sid")
    return [build(TaskQueue, row) for row in rows]


async def all_task_queues(conn: Connection, *, workspace_sid: str) -> list[TaskQueue]:
    return [build(TaskQueue, row) for row in await conn.fetch(f"{SELECT} WHERE q.workspace_sid = $1", workspace_sid)]


async def existing_queue_sids(conn: Connection, *, workspace_sid: str, sids: list[str]) -> set[str]:
    rows = await conn.fetch("SELECT sid FROM task_queues WHERE workspace_sid = $1 AND sid = ANY($2::text[])",
                            workspace_sid, sids)
    return {row["sid"] for row in rows}


async def update_task_queue(conn: Connection, *, sid: str, values: dict[str, Any]) -> None:
    sets, params = assignments(values, WRITABLE)
    await conn.execute(f"UPDATE task_queues SET {sets} WHERE sid = $1", sid, *params)


async def task_queue_in_use(conn: Connection, *, sid: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM tasks WHERE task_queue_sid = $1 AND assignment_status IN ('pending', 'reserved'))",
        sid,
    ))


async def delete_task_queue(conn: Connection, *, sid: str) -> bool:
    return touched_one(await conn.execute("DELETE FROM task_queues WHERE sid = $1", sid))


async def queue_presence(conn: Connection, task_queue_sid: str) -> tuple[int, int, dict[str, int]]:
    """For `skip_if`: available and unavailable members of the queue, and members per activity SID."""
    rows = await conn.fetch(
        "SELECT w.activity_sid, w.available, count(*) AS n FROM queue_members m JOIN workers w ON w.sid = m.worker_sid "
        "WHERE m.task_queue_sid = $1 GROUP BY w.activity_sid, w.available", task_queue_sid)
    available = sum(row["n"] for row in rows if row["available"])
    unavailable = sum(row["n"] for row in rows if not row["available"])
    return available, unavailable, {row["activity_sid"]: row["n"] for row in rows}
