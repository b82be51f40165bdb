"""Workspaces."""

from __future__ import annotations

from typing import Any

from services.router.domain.models import Workspace
from services.router.store.base import Connection, Keyset, assignments, build, fetch_page, touched_one
from shared.sids import new_sid
from shared.sql import Query

COLUMNS = (
    "sid, account_sid, friendly_name, event_callback_url, events_filter, default_activity_sid, timeout_activity_sid, "
    "multi_task_enabled, prioritize_queue_order, date_created, date_updated"
)
WRITABLE = ("friendly_name", "event_callback_url", "events_filter", "default_activity_sid", "timeout_activity_sid",
            "multi_task_enabled", "prioritize_queue_order")


async def insert_workspace(conn: Connection, *, account_sid: str, friendly_name: str, event_callback_url: str | None,
                           events_filter: str | None, multi_task_enabled: bool, prioritize_queue_order: str) -> Workspace:
    row = await conn.fetchrow(
        f"INSERT INTO workspaces (sid, account_sid, friendly_name, event_callback_url, events_filter, "
        f"multi_task_enabled, prioritize_queue_order) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}",
        new_sid("WS"), account_sid, friendly_name, event_callback_url, events_filter, multi_task_enabled,
        prioritize_queue_order,
    )
    return build(Workspace, row)  # type: ignore[no-any-return]


async def get_workspace(conn: Connection, *, account_sid: str, sid: str) -> Workspace | None:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM workspaces WHERE sid = $1 AND account_sid = $2", sid, account_sid)
    return build(Workspace, row)  # type: ignore[no-any-return]


async def get_workspace_by_sid(conn: Connection, *, sid: str) -> Workspace | None:
    """For the engine, which acts for whichever account owns the workspace."""
    return build(Workspace, await conn.fetchrow(f"SELECT {COLUMNS} FROM workspaces WHERE sid = $1", sid))  # type: ignore[no-any-return]


async def list_workspaces(conn: Connection, *, account_sid: str, friendly_name: str | None, keyset: Keyset) -> list[Workspace]:
    query = Query().where("account_sid = {}", account_sid).maybe("friendly_name = {}", friendly_name)
    rows = await fetch_page(conn, select=f"SELECT {COLUMNS} FROM workspaces", query=query, keyset=keyset,
                            date_column="date_created", sid_column="sid")
    return [build(Workspace, row) for row in rows]


async def update_workspace(conn: Connection, *, sid: str, values: dict[str, Any]) -> Workspace:
    sets, params = assignments(values, WRITABLE)
    row = await conn.fetchrow(f"UPDATE workspaces SET {sets} WHERE sid = $1 RETURNING {COLUMNS}", sid, *params)
    return build(Workspace, row)  # type: ignore[no-any-return]


async def delete_workspace(conn: Connection, *, sid: str) -> bool:
    return touched_one(await conn.execute("DELETE FROM workspaces WHERE sid = $1", sid))
