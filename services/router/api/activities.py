"""`/taskrouter/v1/Workspaces/{WorkspaceSid}/Activities`."""

from typing import Any

import asyncpg
from fastapi import APIRouter, Request, Response

from services.router import render
from services.router.announce import Occurrence, record
from services.router.api.deps import ROOT, FormData, base_of, caller, found_or_404, listing, page_of, workspace_or_404
from services.router.domain.models import Activity, Workspace
from services.router.store import activities
from services.router.store.base import Connection
from shared.errors import TwilioError
from shared.runtime import ServiceContext


async def _event(conn: Connection, workspace: Workspace, activity: Activity, event_type: str, base: str) -> None:
    await record(conn, workspace, Occurrence(
        event_type=event_type, resource_type="activity", resource_sid=activity.sid,
        description=f"Activity {activity.friendly_name} {event_type.split('.')[1]}",
        resource=render.activity(activity, base)))


def activities_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=ROOT + "/{workspace_sid}/Activities")
    Caller = caller(context)
    pool = context.pool

    async def activity_or_404(workspace_sid: str, sid: str) -> Activity:
        return found_or_404(await activities.get_activity(pool, workspace_sid=workspace_sid, sid=sid),  # type: ignore[no-any-return]
                            f"Activity {sid}")

    @router.post("", status_code=201)
    async def create(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        name = form.required("FriendlyName", max_length=64)
        available = form.bool("Available")
        base = base_of(context, request)
        try:
            async with pool.acquire() as conn, conn.transaction():
                activity = await activities.insert_activity(conn, account_sid=account.sid, workspace_sid=workspace.sid,
                                                            friendly_name=name, available=bool(available))
                await _event(conn, workspace, activity, "activity.created", base)
        except asyncpg.UniqueViolationError as error:
            raise TwilioError(409, 20001, f"Activity with FriendlyName {name} already exists") from error
        return render.activity(activity, base)

    @router.get("")
    async def list_(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        page, keyset = page_of(form)
        name, available = form.str("FriendlyName"), form.bool("Available")
        rows = await activities.list_activities(pool, workspace_sid=workspace.sid, friendly_name=name,
                                                available=available, keyset=keyset)
        base = base_of(context, request)
        return listing(key="activities", rows=rows, page=page, url=f"{base}{ROOT}/{workspace.sid}/Activities",
                       draw=lambda row: render.activity(row, base),
                       filters=[("FriendlyName", name), ("Available", None if available is None else str(available).lower())])

    @router.get("/{sid}")
    async def fetch(request: Request, workspace_sid: str, sid: str, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        return render.activity(await activity_or_404(workspace.sid, sid), base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, workspace_sid: str, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        activity = await activity_or_404(workspace.sid, sid)
        name = form.str("FriendlyName", max_length=64)
        base = base_of(context, request)
        if name:
            try:
                async with pool.acquire() as conn, conn.transaction():
                    activity = await activities.rename_activity(conn, sid=activity.sid, friendly_name=name)
                    await _event(conn, workspace, activity, "activity.updated", base)
            except asyncpg.UniqueViolationError as error:
                raise TwilioError(409, 20001, f"Activity with FriendlyName {name} already exists") from error
        return render.activity(activity, base)

    @router.delete("/{sid}", status_code=204)
    async def delete(request: Request, workspace_sid: str, sid: str, account: Caller) -> Response:
        workspace = await workspace_or_404(context, account, workspace_sid)
        activity = await activity_or_404(workspace.sid, sid)
        async with pool.acquire() as conn, conn.transaction():
            if await activities.activity_in_use(conn, sid=activity.sid):
                raise TwilioError(400, 20001, f"Activity {sid} is in use and cannot be deleted")
            await activities.delete_activity(conn, sid=activity.sid)
            await _event(conn, workspace, activity, "activity.deleted", base_of(context, request))
        return Response(status_code=204)

    return router
