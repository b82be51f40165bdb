"""`/taskrouter/v1/Workspaces/{WorkspaceSid}/TaskQueues`."""

from typing import Any

import asyncpg
from fastapi import APIRouter, Request, Response

from services.router import render
from services.router.api.deps import ROOT, FormData, base_of, caller, found_or_404, listing, page_of, workspace_or_404
from services.router.api.workers import expression_param
from services.router.domain.models import TaskQueue, Workspace
from services.router.handlers import task_queues as handle
from services.router.store import activities, task_queues
from shared.errors import TwilioError, invalid_parameter
from shared.forms import Form
from shared.runtime import ServiceContext


def task_queues_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=ROOT + "/{workspace_sid}/TaskQueues")
    Caller = caller(context)
    pool = context.pool

    async def queue_or_404(workspace_sid: str, sid: str) -> TaskQueue:
        return found_or_404(await task_queues.get_task_queue(pool, workspace_sid=workspace_sid, sid=sid),  # type: ignore[no-any-return]
                            f"TaskQueue {sid}")

    async def values_from(workspace: Workspace, form: Form) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if "FriendlyName" in form:
            values["friendly_name"] = form.required("FriendlyName", max_length=64)
        if "TargetWorkers" in form:
            values["target_workers"] = expression_param(form, "TargetWorkers") or "1==1"
        if "MaxReservedWorkers" in form:
            values["max_reserved_workers"] = form.int("MaxReservedWorkers", minimum=1, maximum=50)
        if "TaskOrder" in form:
            values["task_order"] = form.choice("TaskOrder", ["FIFO", "LIFO"], lower=False)
        for parameter, column in (("ReservationActivitySid", "reservation_activity_sid"),
                                  ("AssignmentActivitySid", "assignment_activity_sid")):
            sid = form.str(parameter)
            if sid:
                if await activities.get_activity(pool, workspace_sid=workspace.sid, sid=sid) is None:
                    raise invalid_parameter(f"{parameter} {sid} is not an Activity of this Workspace")
                values[column] = sid
        return values

    @router.post("", status_code=201)
    async def create(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        form.required("FriendlyName", max_length=64)
        values = await values_from(workspace, form)
        base = base_of(context, request)
        try:
            async with pool.acquire() as conn, conn.transaction():
                queue = await handle.create_task_queue(conn, workspace, values, base=base)
        except asyncpg.UniqueViolationError as error:
            raise TwilioError(409, 20001, f"TaskQueue with FriendlyName {values['friendly_name']} already exists") from error
        return render.task_queue(queue, base)

    @router.get("")
    async def list_(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        page, keyset = page_of(form)
        name, worker_sid = form.str("FriendlyName"), form.str("WorkerSid")
        rows = await task_queues.list_task_queues(pool, workspace_sid=workspace.sid, keyset=keyset, friendly_name=name,
                                                  worker_sid=worker_sid)
        base = base_of(context, request)
        return listing(key="task_queues", rows=rows, page=page, url=f"{base}{ROOT}/{workspace.sid}/TaskQueues",
                       draw=lambda row: render.task_queue(row, base),
                       filters=[("FriendlyName", name), ("WorkerSid", worker_sid)])

    @router.get("/{sid}")
    async def fetch(request: Request, workspace_sid: str, sid: str, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        return render.task_queue(await queue_or_404(workspace.sid, sid), base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, workspace_sid: str, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        queue = await queue_or_404(workspace.sid, sid)
        values = await values_from(workspace, form)
        base = base_of(context, request)
        try:
            async with pool.acquire() as conn, conn.transaction():
                queue = await handle.update_task_queue(conn, workspace, queue, values, base=base)
        except asyncpg.UniqueViolationError as error:
            raise TwilioError(409, 20001, "A TaskQueue with this FriendlyName already exists") from error
        return render.task_queue(queue, base)

    @router.delete("/{sid}", status_code=204)
    async def delete(request: Request, workspace_sid: str, sid: str, account: Caller) -> Response:
        workspace = await workspace_or_404(context, account, workspace_sid)
        queue = await queue_or_404(workspace.sid, sid)
        async with pool.acquire() as conn, conn.transaction():
            if await task_queues.task_queue_in_use(conn, sid=queue.sid):
                raise TwilioError(400, 20001, f"TaskQueue {sid} has pending or reserved Tasks and cannot be deleted")
            await handle.delete_task_queue(conn, workspace, queue, base=base_of(context, request))
        return Response(status_code=204)

    return router
