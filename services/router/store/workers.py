"""Workers, their per-channel capacity rows, and their queue memberships."""

from __future__ import annotations

from typing import Any

from services.router.domain.models import Worker, WorkerChannel
from services.router.store.base import Connection, Keyset, assignments, build, fetch_page, touched_one
from shared.sids import new_sid
from shared.sql import Query

COLUMNS = (
    "w.sid, w.account_sid, w.workspace_sid, w.friendly_name, w.attributes, w.activity_sid, "
    "a.friendly_name AS activity_name, w.available, w.date_status_changed, w.date_created, w.date_updated"
)
SELECT = f"SELECT {COLUMNS} FROM workers w JOIN activities a ON a.sid = w.activity_sid"

CHANNEL_COLUMNS = (
    "c.sid, c.account_sid, c.workspace_sid, c.worker_sid, c.task_channel_sid, t.unique_name AS task_channel_unique_name, "
    "c.configured_capacity, c.available, c.assigned_tasks, c.date_created, c.date_updated"
)
CHANNEL_SELECT = f"SELECT {CHANNEL_COLUMNS} FROM worker_channels c JOIN task_channels t ON t.sid = c.task_channel_sid"


async def insert_worker(conn: Connection, *, account_sid: str, workspace_sid: str, friendly_name: str,
                        attributes: str, activity_sid: str, available: bool) -> str:
    sid = new_sid("WK")
    await conn.execute(
        "INSERT INTO workers (sid, account_sid, workspace_sid, friendly_name, attributes, activity_sid, available) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        sid, account_sid, workspace_sid, friendly_name, attributes, activity_sid, available,
    )
    # Every worker gets a channel row per task channel: capacity 1, available, as Twilio creates them.
    await conn.execute(
        "INSERT INTO worker_channels (sid, account_sid, workspace_sid, worker_sid, task_channel_sid, worker_available) "
        "SELECT 'WC' || md5(random()::text || t.sid || $1), $2, $3, $1, t.sid, $4 FROM task_channels t "
        "WHERE t.workspace_sid = $3",
        sid, account_sid, workspace_sid, available,
    )
    return sid


async def add_channel_to_workers(conn: Connection, *, account_sid: str, workspace_sid: str, task_channel_sid: str) -> None:
    await conn.execute(
        "INSERT INTO worker_channels (sid, account_sid, workspace_sid, worker_sid, task_channel_sid, worker_available) "
        "SELECT 'WC' || md5(random()::text || w.sid || $3), $1, $2, w.sid, $3, w.available FROM workers w "
        "WHERE w.workspace_sid = $2 ON CONFLICT DO NOTHING",
        account_sid, workspace_sid, task_channel_sid,
    )


async def get_worker(conn: Connection, *, workspace_sid: str, sid: str, for_update: bool = False) -> Worker | None:
    lock = " FOR UPDATE OF w" if for_update else ""
    row = await conn.fetchrow(f"{SELECT} WHERE w.sid = $1 AND w.workspace_sid = $2{lock}", sid, workspace_sid)
    return build(Worker, row)  # type: ignore[no-any-return]


async def worker_of_account(conn: Connection, *, account_sid: str, sid: str, workspace_sid: str | None = None) -> bool:
    """Whether the account has this worker (in that workspace, when one is named)."""
    return bool(await conn.fetchval(
        "SELECT true FROM workers WHERE sid = $1 AND account_sid = $2 AND ($3::text IS NULL OR workspace_sid = $3)",
        sid, account_sid, workspace_sid))


async def list_workers(conn: Connection, *, workspace_sid: str, keyset: Keyset, activity_sid: str | None = None,
                       activity_name: str | None = None, available: bool | None = None,
                       friendly_name: str | None = None, task_queue_sid: str | None = None,
                       task_queue_name: str | None = None) -> list[Worker]:
    query = (
        Query().where("w.workspace_sid = {}", workspace_sid).maybe("w.activity_sid = {}", activity_sid)
        .maybe("a.friendly_name = {}", activity_name).maybe("w.available = {}", available)
        .maybe("w.friendly_name = {}", friendly_name)
        .maybe("EXISTS (SELECT 1 FROM queue_members m WHERE m.worker_sid = w.sid AND m.task_queue_sid = {})",
               task_queue_sid)
        .maybe("EXISTS (SELECT 1 FROM queue_members m JOIN task_queues q ON q.sid = m.task_queue_sid "
               "WHERE m.worker_sid = w.sid AND q.friendly_name = {})", task_queue_name)
    )
    rows = await fetch_page(conn, select=SELECT, query=query, keyset=keyset, date_column="w.date_created",
                            sid_column="w.sid")
    return [build(Worker, row) for row in rows]


async def update_worker(conn: Connection, *, sid: str, values: dict[str, Any]) -> None:
    sets, params = assignments(values, ("friendly_name", "attributes"))
    await conn.execute(f"UPDATE workers SET {sets} WHERE sid = $1", sid, *params)


async def set_worker_activity(conn: Connection, *, sid: str, activity_sid: str, available: bool) -> None:
    """A new activity: availability follows it on every channel, and idleness counts from now."""
    await conn.execute(
        "UPDATE workers SET activity_sid = $2, available = $3, date_status_changed = clock_timestamp(), "
        "date_updated = clock_timestamp() WHERE sid = $1",
        sid, activity_sid, available,
    )
    await conn.execute(
        "UPDATE worker_channels SET worker_available = $2, "
        "idle_since = CASE WHEN $2 AND NOT worker_available THEN clock_timestamp() ELSE idle_since END "
        "WHERE worker_sid = $1",
        sid, available,
    )


async def delete_worker(conn: Connection, *, sid: str) -> bool:
    return touched_one(await conn.execute("DELETE FROM workers WHERE sid = $1", sid))


# ------------------------------------------------------------------------------------------- channels


async def list_worker_channels(conn: Connection, *, worker_sid: str, keyset: Keyset) -> list[WorkerChannel]:
    rows = await fetch_page(conn, select=CHANNEL_SELECT, query=Query().where("c.worker_sid = {}", worker_sid),
                            keyset=keyset, date_column="c.date_created", sid_column="c.sid")
    return [build(WorkerChannel, row) for row in rows]


async def get_worker_channel(conn: Connection, *, worker_sid: str, sid_or_unique_name: str) -> WorkerChannel | None:
    row = await conn.fetchrow(
        f"{CHANNEL_SELECT} WHERE c.worker_sid = $1 AND (c.sid = $2 OR t.sid = $2 OR t.unique_name = $2) LIMIT 1",
        worker_sid, sid_or_unique_name,
    )
    return build(WorkerChannel, row)  # type: ignore[no-any-return]


async def update_worker_channel(conn: Connection, *, sid: str, capacity: int | None, available: bool | None) -> None:
    await conn.execute(
        "UPDATE worker_channels SET configured_capacity = COALESCE($2, configured_capacity), "
        "available = COALESCE($3, available), date_updated = clock_timestamp() WHERE sid = $1",
        sid, capacity, available,
    )


async def take_capacity(conn: Connection, *, worker_sid: str, task_channel_sid: str) -> bool:
    """One more task on the channel, only if the channel is still ready: the guard two routers race on."""
    return touched_one(await conn.execute(
        "UPDATE worker_channels SET assigned_tasks = assigned_tasks + 1 "
        "WHERE worker_sid = $1 AND task_channel_sid = $2 AND ready",
        worker_sid, task_channel_sid,
    ))


async def release_capacity(conn: Connection, *, worker_sid: str, task_channel_sid: str) -> None:
    await conn.execute(
        "UPDATE worker_channels SET assigned_tasks = greatest(assigned_tasks - 1, 0), idle_since = clock_timestamp() "
        "WHERE worker_sid = $1 AND task_channel_sid = $2",
        worker_sid, task_channel_sid,
    )


# ---------------------------------------------------------------------------------------- membership


async def set_memberships(conn: Connection, *, worker_sid: str, queue_sids: list[str]) -> None:
    await conn.execute("DELETE FROM queue_members WHERE worker_sid = $1 AND NOT task_queue_sid = ANY($2::text[])",
                       worker_sid, queue_sids)
    await conn.execute(
        "INSERT INTO queue_members (task_queue_sid, worker_sid) SELECT unnest($2::text[]), $1 ON CONFLICT DO NOTHING",
        worker_sid, queue_sids,
    )


async def set_queue_members(conn: Connection, *, task_queue_sid: str, worker_sids: list[str]) -> None:
    await conn.execute("DELETE FROM queue_members WHERE task_queue_sid = $1 AND NOT worker_sid = ANY($2::text[])",
                       task_queue_sid, worker_sids)
    await conn.execute(
        "INSERT INTO queue_members (task_queue_sid, worker_sid) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
        task_queue_sid, worker_sids,
    )


async def worker_attributes(conn: Connection, *, workspace_sid: str) -> list[tuple[str, str]]:
    rows = await conn.fetch("SELECT sid, attributes FROM workers WHERE workspace_sid = $1", workspace_sid)
    return [(row["sid"], row["attributes"]) for row in rows]

