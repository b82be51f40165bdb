"""`/taskrouter/v1/Workspaces/{WorkspaceSid}/TaskChannels`."""

from typing import Any

import asyncpg
from fastapi import APIRouter, Request, Response

from services.router import render
from services.router.announce import Occurrence, record
from services.router.api.deps import ROOT, FormData, base_of, caller, found_or_404, listing, page_of, workspace_or_404
from services.router.domain.models import TaskChannel, Workspace
from services.router.store import task_channels, workers
from services.router.store.base import Connection
from shared.errors import TwilioError
from shared.runtime import ServiceContext


async def _event(conn: Connection, workspace: Workspace, channel: TaskChannel, event_type: str, base: str) -> None:
    await record(conn, workspace, Occurrence(
        event_type=event_type, resource_type="task_channel", resource_sid=channel.sid,
        description=f"TaskChannel {channel.unique_name} {event_type.split('.')[1]}",
        resource=render.task_channel(channel, base)))


def task_channels_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=ROOT + "/{workspace_sid}/TaskChannels")
    Caller = caller(context)
    pool = context.pool

    async def channel_or_404(workspace_sid: str, sid: str) -> TaskChannel:
        found = await task_channels.get_task_channel(pool, workspace_sid=workspace_sid, sid_or_unique_name=sid)
        return found_or_404(found, f"TaskChannel {sid}")  # type: ignore[no-any-return]

    @router.post("", status_code=201)
    async def create(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        name = form.required("FriendlyName", max_length=64)
        unique = form.required("UniqueName", max_length=64)
        base = base_of(context, request)
        try:
            async with pool.acquire() as conn, conn.transaction():
                channel = await task_channels.insert_task_channel(
                    conn, account_sid=account.sid, workspace_sid=workspace.sid, friendly_name=name, unique_name=unique,
                    channel_optimized_routing=form.bool("ChannelOptimizedRouting"))
                # Every existing worker gets capacity on the new channel, as Twilio does.
                await workers.add_channel_to_workers(conn, account_sid=account.sid, workspace_sid=workspace.sid,
                                                     task_channel_sid=channel.sid)
                await _event(conn, workspace, channel, "task-channel.created", base)
        except asyncpg.UniqueViolationError as error:
            raise TwilioError(409, 20001, f"TaskChannel with UniqueName {unique} already exists") from error
        return render.task_channel(channel, base)

    @router.get("")
    async def list_(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        page, keyset = page_of(form)
        rows = await task_channels.list_task_channels(pool, workspace_sid=workspace.sid, keyset=keyset)
        base = base_of(context, request)
        return listing(key="channels", rows=rows, page=page, url=f"{base}{ROOT}/{workspace.sid}/TaskChannels",
                       draw=lambda row: render.task_channel(row, base))

    @router.get("/{sid}")
    async def fetch(request: Request, workspace_sid: str, sid: str, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        return render.task_channel(await channel_or_404(workspace.sid, sid), base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, workspace_sid: str, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        channel = await channel_or_404(workspace.sid, sid)
        values: dict[str, Any] = {}
        if "FriendlyName" in form:
            values["friendly_name"] = form.required("FriendlyName", max_length=64)
        if "ChannelOptimizedRouting" in form:
            values["channel_optimized_routing"] = form.bool("ChannelOptimizedRouting")
        base = base_of(context, request)
        if values:
            async with pool.acquire() as conn, conn.transaction():
                channel = await task_channels.update_task_channel(conn, sid=channel.sid, values=values)
                await _event(conn, workspace, channel, "task-channel.updated", base)
        return render.task_channel(channel, base)

    @router.delete("/{sid}", status_code=204)
    async def delete(request: Request, workspace_sid: str, sid: str, account: Caller) -> Response:
        workspace = await workspace_or_404(context, account, workspace_sid)
        channel = await channel_or_404(workspace.sid, sid)
        async with pool.acquire() as conn, conn.transaction():
            if await task_channels.task_channel_in_use(conn, sid=channel.sid):
                raise TwilioError(400, 20001, f"TaskChannel {sid} has active Tasks and cannot be deleted")
            await task_channels.delete_task_channel(conn, sid=channel.sid)
            await _event(conn, workspace, channel, "task-channel.deleted", base_of(context, request))
        return Response(status_code=204)

    return router
