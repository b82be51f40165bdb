"""Task channels (voice, chat, sms…), by SID or unique name."""

from __future__ import annotations

from typing import Any

from services.router.domain.models import TaskChannel
from services.router.store.base import Connection, Keyset, assignments, build, fetch_page, touched_one
from shared.sids import new_sid
from shared.sql import Query

COLUMNS = "sid, account_sid, workspace_sid, friendly_name, unique_name, channel_optimized_routing, date_created, date_updated"


async def insert_task_channel(conn: Connection, *, account_sid: str, workspace_sid: str, friendly_name: str,
                              unique_name: str, channel_optimized_routing: bool | None) -> TaskChannel:
    row = await conn.fetchrow(
        f"INSERT INTO task_channels (sid, account_sid, workspace_sid, friendly_name, unique_name, channel_optimized_routing) "
        f"VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}",
        new_sid("TC"), account_sid, workspace_sid, friendly_name, unique_name, channel_optimized_routing,
    )
    return build(TaskChannel, row)  # type: ignore[no-any-return]


async def get_task_channel(conn: Connection, *, workspace_sid: str, sid_or_unique_name: str) -> TaskChannel | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM task_channels WHERE workspace_sid = $1 AND (sid = $2 OR unique_name = $2) "
        f"ORDER BY sid = $2 DESC LIMIT 1",
        workspace_sid, sid_or_unique_name,
    )
    return build(TaskChannel, row)  # type: ignore[no-any-return]


async def list_task_channels(conn: Connection, *, workspace_sid: str, keyset: Keyset) -> list[TaskChannel]:
    rows = await fetch_page(conn, select=f"SELECT {COLUMNS} FROM task_channels",
                            query=Query().where("workspace_sid = {}", workspace_sid), keyset=keyset,
                            date_column="date_created", sid_column="sid")
    return [build(TaskChannel, row) for row in rows]


async def update_task_channel(conn: Connection, *, sid: str, values: dict[str, Any]) -> TaskChannel:
    sets, params = assignments(values, ("friendly_name", "channel_optimized_routing"))
    row = await conn.fetchrow(f"UPDATE task_channels SET {sets} WHERE sid = $1 RETURNING {COLUMNS}", sid, *params)
    return build(TaskChannel, row)  # type: ignore[no-any-return]


async def task_channel_in_use(conn: Connection, *, sid: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM tasks WHERE task_channel_sid = $1 AND assignment_status NOT IN "
        "('completed', 'canceled'))", sid,
    ))


async def delete_task_channel(conn: Connection, *, sid: str) -> bool:
    await conn.execute("DELETE FROM tasks WHERE task_channel_sid = $1", sid)
    return touched_one(await conn.execute("DELETE FROM task_channels WHERE sid = $1", sid))
