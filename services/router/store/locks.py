"""Row locks in one global order, so no two transactions ever wait on each other in a cycle.

The order: task → its reservations (by creation) → worker → worker channels. A path that starts
from a reservation (accept, reject, timeout) first locks the reservation's task, which never
changes, then the reservation; cancelling a task locks the task, then its reservations.
"""

from __future__ import annotations

from services.router.store.base import Connection


async def lock_reservation(conn: Connection, *, sid: str, skip_locked: bool = False,
                           statuses: list[str] | None = None) -> bool:
    """Lock the reservation's task, then the reservation; false when absent (or, with skip_locked, busy)."""
    skip = " SKIP LOCKED" if skip_locked else ""
    task_locked = await conn.fetchval(
        f"SELECT true FROM tasks WHERE sid = (SELECT task_sid FROM reservations WHERE sid = $1) FOR UPDATE{skip}", sid)
    if not task_locked:
        return False
    return bool(await conn.fetchval(
        f"SELECT true FROM reservations WHERE sid = $1 AND ($2::text[] IS NULL OR reservation_status = ANY($2::text[])) "
        f"FOR UPDATE{skip}", sid, statuses))


async def lock_tasks_of_worker(conn: Connection, *, worker_sid: str, statuses: list[str]) -> None:
    """Before a worker-scoped change that moves its reservations: their tasks first, in SID order."""
    await conn.execute(
        "SELECT 1 FROM tasks WHERE sid IN (SELECT task_sid FROM reservations WHERE worker_sid = $1 "
        "AND reservation_status = ANY($2::text[])) ORDER BY sid FOR UPDATE", worker_sid, statuses)
