"""Workflows."""

from __future__ import annotations

from typing import Any

from services.router.domain.models import Workflow
from services.router.store.base import Connection, Keyset, assignments, build, fetch_page, touched_one
from shared.sids import new_sid
from shared.sql import Query

COLUMNS = (
    "sid, account_sid, workspace_sid, friendly_name, configuration, assignment_callback_url, "
    "fallback_assignment_callback_url, task_reservation_timeout, date_created, date_updated"
)
WRITABLE = ("friendly_name", "configuration", "assignment_callback_url", "fallback_assignment_callback_url",
            "task_reservation_timeout")


async def insert_workflow(conn: Connection, *, account_sid: str, workspace_sid: str, values: dict[str, Any]) -> Workflow:
    names = ["sid", "account_sid", "workspace_sid", *values]
    placeholders = ", ".join(f"${n}" for n in range(1, len(names) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO workflows ({', '.join(names)}) VALUES ({placeholders}) RETURNING {COLUMNS}",
        new_sid("WW"), account_sid, workspace_sid, *values.values(),
    )
    return build(Workflow, row)  # type: ignore[no-any-return]


async def get_workflow(conn: Connection, *, workspace_sid: str, sid: str) -> Workflow | None:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM workflows WHERE sid = $1 AND workspace_sid = $2", sid, workspace_sid)
    return build(Workflow, row)  # type: ignore[no-any-return]


async def get_workflow_by_sid(conn: Connection, *, sid: str) -> Workflow | None:
    return build(Workflow, await conn.fetchrow(f"SELECT {COLUMNS} FROM workflows WHERE sid = $1", sid))  # type: ignore[no-any-return]


async def list_workflows(conn: Connection, *, workspace_sid: str, friendly_name: str | None, keyset: Keyset) -> list[Workflow]:
    query = Query().where("workspace_sid = {}", workspace_sid).maybe("friendly_name = {}", friendly_name)
    rows = await fetch_page(conn, select=f"SELECT {COLUMNS} FROM workflows", query=query, keyset=keyset,
                            date_column="date_created", sid_column="sid")
    return [build(Workflow, row) for row in rows]


async def update_workflow(conn: Connection, *, sid: str, values: dict[str, Any]) -> Workflow:
    sets, params = assignments(values, WRITABLE)
    row = await conn.fetchrow(f"UPDATE workflows SET {sets} WHERE sid = $1 RETURNING {COLUMNS}", sid, *params)
    return build(Workflow, row)  # type: ignore[no-any-return]


async def delete_workflow(conn: Connection, *, sid: str) -> bool:
    return touched_one(await conn.execute("DELETE FROM workflows WHERE sid = $1", sid))
