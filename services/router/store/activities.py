"""Activities: the states a worker can be in, available or not."""

from __future__ import annotations

from services.router.domain.models import Activity
from services.router.store.base import Connection, Keyset, build, fetch_page, touched_one
from shared.sids import new_sid
from shared.sql import Query

COLUMNS = "sid, account_sid, workspace_sid, friendly_name, available, date_created, date_updated"


async def insert_activity(conn: Connection, *, account_sid: str, workspace_sid: str, friendly_name: str,
                          available: bool) -> Activity:
    row = await conn.fetchrow(
        f"INSERT INTO activities (sid, account_sid, workspace_sid, friendly_name, available) "
        f"VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}",
        new_sid("WA"), account_sid, workspace_sid, friendly_name, available,
    )
    return build(Activity, row)  # type: ignore[no-any-return]


async def get_activity(conn: Connection, *, workspace_sid: str, sid: str) -> Activity | None:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM activities WHERE sid = $1 AND workspace_sid = $2", sid, workspace_sid)
    return build(Activity, row)  # type: ignore[no-any-return]


async def list_activities(conn: Connection, *, workspace_sid: str, friendly_name: str | None = None,
                          available: bool | None = None, keyset: Keyset) -> list[Activity]:
    query = (Query().where("workspace_sid = {}", workspace_sid).maybe("friendly_name = {}", friendly_name)
             .maybe("available = {}", available))
    rows = await fetch_page(conn, select=f"SELECT {COLUMNS} FROM activities", query=query, keyset=keyset,
                            date_column="date_created", sid_column="sid")
    return [build(Activity, row) for row in rows]


async def rename_activity(conn: Connection, *, sid: str, friendly_name: str) -> Activity:
    row = await conn.fetchrow(
        f"UPDATE activities SET friendly_name = $2, date_updated = clock_timestamp() WHERE sid = $1 RETURNING {COLUMNS}",
        sid, friendly_name,
    )
    return build(Activity, row)  # type: ignore[no-any-return]


async def activity_in_use(conn: Connection, *, sid: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM workers WHERE activity_sid = $1) "
        "OR EXISTS (SELECT 1 FROM workspaces WHERE default_activity_sid = $1 OR timeout_activity_sid = $1) "
        "OR EXISTS (SELECT 1 FROM task_queues WHERE reservation_activity_sid = $1 OR assignment_activity_sid = $1)",
        sid,
    ))


async def delete_activity(conn: Connection, *, sid: str) -> bool:
    return touched_one(await conn.execute("DELETE FROM activities WHERE sid = $1", sid))
