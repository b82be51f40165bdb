"""`/taskrouter/v1/Workspaces`."""

from typing import Any

import asyncpg
from fastapi import APIRouter, Request, Response

from services.router.api.deps import ROOT, FormData, base_of, caller, checked_url, listing, page_of, workspace_or_404
from services.router.handlers import workspaces as handle
from services.router.handlers.workspaces import rendered
from services.router.store import activities, workspaces
from shared.errors import TwilioError, invalid_parameter
from shared.forms import Form
from shared.runtime import ServiceContext

QUEUE_ORDERS = ["FIFO", "LIFO"]


def _duplicate(name: str) -> TwilioError:
    return TwilioError(409, 20001, f"Workspace with FriendlyName {name} already exists")


def workspaces_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=ROOT)
    Caller = caller(context)
    pool = context.pool

    async def event_callback_url(form: Form) -> str | None:
        return await checked_url(context, form.str("EventCallbackUrl") or None, parameter="EventCallbackUrl")

    @router.post("", status_code=201)
    async def create(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        name = form.required("FriendlyName", max_length=64)
        callback_url = await event_callback_url(form)
        base = base_of(context, request)
        try:
            async with pool.acquire() as conn, conn.transaction():
                workspace = await handle.create_workspace(
                    conn, account_sid=account.sid, friendly_name=name, event_callback_url=callback_url,
                    events_filter=form.str("EventsFilter"), multi_task_enabled=_multi_task(form, default=True),
                    prioritize_queue_order=form.choice("PrioritizeQueueOrder", QUEUE_ORDERS, lower=False) or "FIFO",
                    template=form.choice("Template", ["FIFO", "NONE"], lower=False), base=base)
                return await rendered(conn, workspace, base)
        except asyncpg.UniqueViolationError as error:
            raise _duplicate(name) from error

    @router.get("")
    async def list_(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        page, keyset = page_of(form)
        name = form.str("FriendlyName")
        base = base_of(context, request)
        async with pool.acquire() as conn:
            rows = await workspaces.list_workspaces(conn, account_sid=account.sid, friendly_name=name, keyset=keyset)
            drawn = {row.sid: await rendered(conn, row, base) for row in rows}
        return listing(key="workspaces", rows=rows, page=page, url=f"{base}{ROOT}", draw=lambda row: drawn[row.sid],
                       filters=[("FriendlyName", name)] if name else None)

    @router.get("/{sid}")
    async def fetch(request: Request, sid: str, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, sid)
        return await rendered(pool, workspace, base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, sid)
        values: dict[str, Any] = {}
        if "FriendlyName" in form:  # a workspace always has a name: an empty one is refused, not stored
            values["friendly_name"] = form.required("FriendlyName", max_length=64)
        if "EventCallbackUrl" in form:
            values["event_callback_url"] = await event_callback_url(form)
        if "EventsFilter" in form:
            values["events_filter"] = form.str("EventsFilter") or None
        if "MultiTaskEnabled" in form:
            values["multi_task_enabled"] = _multi_task(form, default=workspace.multi_task_enabled)
        if "PrioritizeQueueOrder" in form:
            values["prioritize_queue_order"] = form.choice("PrioritizeQueueOrder", QUEUE_ORDERS, lower=False)
        for parameter, column in (("DefaultActivitySid", "default_activity_sid"),
                                  ("TimeoutActivitySid", "timeout_activity_sid")):
            if parameter in form:
                activity_sid = form.required(parameter)
                found = await activities.get_activity(pool, workspace_sid=sid, sid=activity_sid)
                if found is None:
                    raise invalid_parameter(f"{parameter} {activity_sid} is not an Activity of this Workspace")
                values[column] = activity_sid
        base = base_of(context, request)
        try:
            async with pool.acquire() as conn, conn.transaction():
                updated = await handle.update_workspace(conn, workspace, values, base=base)
                return await rendered(conn, updated, base)
        except asyncpg.UniqueViolationError as error:
            raise _duplicate(values.get("friendly_name", "")) from error

    @router.delete("/{sid}", status_code=204)
    async def delete(sid: str, account: Caller) -> Response:
        workspace = await workspace_or_404(context, account, sid)
        await workspaces.delete_workspace(pool, sid=workspace.sid)
        return Response(status_code=204)

    return router


def _multi_task(form: Form, *, default: bool) -> bool:
    value = form.bool("MultiTaskEnabled")
    return default if value is None else value
