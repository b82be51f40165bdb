"""Reservations: one offer of one task to one worker."""

from __future__ import annotations

from datetime import datetime

from services.router.domain.models import Reservation
from services.router.store.base import Connection, Keyset, build, fetch_page
from services.router.store.locks import lock_reservation
from shared.sids import new_sid
from shared.sql import Query

COLUMNS = (
    "r.sid, r.account_sid, r.workspace_sid, r.task_sid, r.worker_sid, w.friendly_name AS worker_name, r.task_queue_sid, "
    "r.task_channel_sid, r.reservation_status, r.holds_capacity, r.expires_at, r.date_created, r.date_updated"
)
SELECT = f"SELECT {COLUMNS} FROM reservations r JOIN workers w ON w.sid = r.worker_sid"


async def insert_reservation(conn: Connection, *, account_sid: str, workspace_sid: str, task_sid: str, worker_sid: str,
                             task_queue_sid: str | None, task_channel_sid: str, expires_at: datetime) -> str:
    sid = new_sid("WR")
    await conn.execute(
        "INSERT INTO reservations (sid, account_sid, workspace_sid, task_sid, worker_sid, task_queue_sid, "
        "task_channel_sid, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        sid, account_sid, workspace_sid, task_sid, worker_sid, task_queue_sid, task_channel_sid, expires_at,
    )
    return sid


async def get_reservation(conn: Connection, *, workspace_sid: str, sid: str, task_sid: str | None = None,
                          worker_sid: str | None = None, for_update: bool = False) -> Reservation | None:
    if for_update:
        await lock_reservation(conn, sid=sid)  # its task first: the global lock order
    row = await conn.fetchrow(
        f"{SELECT} WHERE r.sid = $1 AND r.workspace_sid = $2 AND ($3::text IS NULL OR r.task_sid = $3) "
        f"AND ($4::text IS NULL OR r.worker_sid = $4)",
        sid, workspace_sid, task_sid, worker_sid,
    )
    return build(Reservation, row)  # type: ignore[no-any-return]


async def list_reservations(conn: Connection, *, workspace_sid: str, keyset: Keyset, task_sid: str | None = None,
                            worker_sid: str | None = None, status: str | None = None) -> list[Reservation]:
    query = (Query().where("r.workspace_sid = {}", workspace_sid).maybe("r.task_sid = {}", task_sid)
             .maybe("r.worker_sid = {}", worker_sid).maybe("r.reservation_status = {}", status))
    rows = await fetch_page(conn, select=SELECT, query=query, keyset=keyset, date_column="r.date_created",
                            sid_column="r.sid")
    return [build(Reservation, row) for row in rows]


async def reservations_of_task(conn: Connection, *, task_sid: str, statuses: list[str]) -> list[Reservation]:
    rows = await conn.fetch(f"{SELECT} WHERE r.task_sid = $1 AND r.reservation_status = ANY($2::text[]) "
                            f"ORDER BY r.date_created FOR UPDATE OF r", task_sid, statuses)
    return [build(Reservation, row) for row in rows]


async def reservations_of_worker(conn: Connection, *, worker_sid: str, statuses: list[str]) -> list[Reservation]:
    rows = await conn.fetch(f"{SELECT} WHERE r.worker_sid = $1 AND r.reservation_status = ANY($2::text[]) "
                            f"ORDER BY r.date_created", worker_sid, statuses)
    return [build(Reservation, row) for row in rows]


async def set_reservation_status(conn: Connection, *, sid: str, status: str, releases_capacity: bool) -> None:
    await conn.execute(
        "UPDATE reservations SET reservation_status = $2, holds_capacity = holds_capacity AND NOT $3, "
        "date_updated = clock_timestamp() WHERE sid = $1",
        sid, status, releases_capacity,
    )


async def due_reservations(conn: Connection, *, now: datetime, limit: int) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT workspace_sid, sid FROM reservations WHERE reservation_status = 'pending' AND expires_at <= $1 "
        "ORDER BY expires_at LIMIT $2", now, limit,
    )
    return [(row["workspace_sid"], row["sid"]) for row in rows]


async def lock_pending_reservation(conn: Connection, *, sid: str) -> bool:
    return await lock_reservation(conn, sid=sid, skip_locked=True, statuses=["pending"])

