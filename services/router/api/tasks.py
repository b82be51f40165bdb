"""`/taskrouter/v1/Workspaces/{WorkspaceSid}/Tasks` and the task-scoped Reservations."""

from typing import Any

from fastapi import APIRouter, Request, Response

from services.router import render
from services.router.api.deps import ROOT, FormData, base_of, caller, found_or_404, listing, page_of, workspace_or_404
from services.router.api.reservation_updates import apply_reservation_update
from services.router.api.workers import RESERVATION_STATUSES, attributes_param, expression_param, matching_page
from services.router.domain.expressions import parse, resolver_for
from services.router.domain.models import Task, TaskChannel, Workflow, Workspace, attributes_of
from services.router.handlers import tasks as handle
from services.router.store import reservations, task_channels, tasks, workflows
from services.router.store.base import Keyset
from shared.errors import invalid_parameter
from shared.forms import Form
from shared.runtime import ServiceContext

STATUSES = ["pending", "reserved", "assigned", "wrapping", "completed", "canceled"]


def tasks_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=ROOT + "/{workspace_sid}/Tasks")
    Caller = caller(context)
    pool = context.pool

    async def task_or_404(workspace_sid: str, sid: str) -> Task:
        return found_or_404(await tasks.get_task(pool, workspace_sid=workspace_sid, sid=sid), f"Task {sid}")  # type: ignore[no-any-return]

    async def channel_param(workspace: Workspace, form: Form, default: str | None) -> TaskChannel | None:
        wanted = form.str("TaskChannel") or default
        if wanted is None:
            return None
        found = await task_channels.get_task_channel(pool, workspace_sid=workspace.sid, sid_or_unique_name=wanted)
        if found is None:
            raise invalid_parameter(f"TaskChannel {wanted} is not a TaskChannel of this Workspace")
        return found

    async def workflow_param(workspace: Workspace, form: Form) -> Workflow | None:
        sid = form.str("WorkflowSid")
        if sid:
            found = await workflows.get_workflow(pool, workspace_sid=workspace.sid, sid=sid)
            if found is None:
                raise invalid_parameter(f"WorkflowSid {sid} is not a Workflow of this Workspace")
            return found
        # Twilio routes through the workspace's only workflow when none is named.
        only = await workflows.list_workflows(pool, workspace_sid=workspace.sid, friendly_name=None,
                                              keyset=Keyset(after=None, before=None, limit=2))
        if len(only) == 1:
            return only[0]
        raise invalid_parameter("WorkflowSid is required when the Workspace has no single Workflow")

    @router.post("", status_code=201)
    async def create(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        attributes = attributes_param(form) or "{}"
        priority = form.int("Priority", minimum=0)
        timeout = form.int("Timeout", minimum=1, maximum=31536000)
        channel = await channel_param(workspace, form, "default")
        assert channel is not None
        workflow = await workflow_param(workspace, form)
        base = base_of(context, request)
        async with pool.acquire() as conn, conn.transaction():
            task = await handle.create_task(
                conn, workspace, workflow=workflow, attributes=attributes, priority=priority or 0,
                timeout=timeout or 86400, channel=channel, routing_target=form.str("RoutingTarget"),
                ignore_capacity=bool(form.bool("IgnoreCapacity")), virtual_start_time=form.datetime("VirtualStartTime"),
                base=base)
        return render.task(task, base)

    @router.get("")
    async def list_(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        page, keyset = page_of(form)
        statuses = form.list("AssignmentStatus")
        for status in statuses or []:
            if status not in STATUSES:
                raise invalid_parameter(f"AssignmentStatus must be one of {', '.join(STATUSES)}, not '{status}'")
        ordering = (form.str("Ordering") or "DateCreated:asc").lower()
        keyset = Keyset(after=keyset.after, before=keyset.before, limit=keyset.limit, descending=ordering.endswith("desc"))
        filters = {"priority": form.int("Priority"), "statuses": statuses, "workflow_sid": form.str("WorkflowSid"),
                   "workflow_name": form.str("WorkflowName"), "task_queue_sid": form.str("TaskQueueSid"),
                   "task_queue_name": form.str("TaskQueueName")}
        expression = expression_param(form, "EvaluateTaskAttributes")

        async def fetch(ks: Keyset) -> list[Task]:
            return await tasks.list_tasks(pool, workspace_sid=workspace.sid,
                                          keyset=Keyset(ks.after, ks.before, ks.limit, keyset.descending), **filters)

        if expression is None:
            rows = await fetch(keyset)
        else:
            parsed = parse(expression)
            rows = await matching_page(fetch, keyset,
                                       lambda t: parsed.evaluate(resolver_for(attributes_of(t.attributes))))
        base = base_of(context, request)
        shown = [("AssignmentStatus", status) for status in statuses or []] + [
            ("WorkflowSid", filters["workflow_sid"]), ("TaskQueueSid", filters["task_queue_sid"]),
            ("EvaluateTaskAttributes", expression), ("Ordering", form.str("Ordering"))]
        return listing(key="tasks", rows=rows, page=page, url=f"{base}{ROOT}/{workspace.sid}/Tasks",
                       draw=lambda row: render.task(row, base), filters=shown)  # type: ignore[arg-type]

    @router.get("/{sid}")
    async def fetch(request: Request, workspace_sid: str, sid: str, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        return render.task(await task_or_404(workspace.sid, sid), base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, workspace_sid: str, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        await task_or_404(workspace.sid, sid)
        attributes = attributes_param(form)
        priority = form.int("Priority", minimum=0)
        status = form.choice("AssignmentStatus", ["canceled", "wrapping", "completed"])
        channel = await channel_param(workspace, form, None)
        base = base_of(context, request)
        async with pool.acquire() as conn, conn.transaction():
            task = await tasks.get_task(conn, workspace_sid=workspace.sid, sid=sid, for_update=True)
            assert task is not None
            task = await handle.update_task(conn, workspace, task, attributes=attributes, priority=priority,
                                            channel=channel, status=status, reason=form.str("Reason"),
                                            virtual_start_time=form.datetime("VirtualStartTime"), base=base)
        return render.task(task, base)

    @router.delete("/{sid}", status_code=204)
    async def delete(request: Request, workspace_sid: str, sid: str, account: Caller) -> Response:
        workspace = await workspace_or_404(context, account, workspace_sid)
        await task_or_404(workspace.sid, sid)
        async with pool.acquire() as conn, conn.transaction():
            task = await tasks.get_task(conn, workspace_sid=workspace.sid, sid=sid, for_update=True)
            if task is not None:
                await handle.delete_task(conn, workspace, task, base=base_of(context, request))
        return Response(status_code=204)

    @router.get("/{sid}/Reservations")
    async def list_reservations(request: Request, workspace_sid: str, sid: str, form: FormData,
                                account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        task = await task_or_404(workspace.sid, sid)
        page, keyset = page_of(form)
        status = form.choice("ReservationStatus", RESERVATION_STATUSES)
        worker_sid = form.str("WorkerSid")
        rows = await reservations.list_reservations(pool, workspace_sid=workspace.sid, keyset=keyset, task_sid=task.sid,
                                                    worker_sid=worker_sid, status=status)
        base = base_of(context, request)
        return listing(key="reservations", rows=rows, page=page,
                       url=f"{base}{ROOT}/{workspace.sid}/Tasks/{sid}/Reservations",
                       draw=lambda row: render.reservation(row, base),
                       filters=[("ReservationStatus", status), ("WorkerSid", worker_sid)])

    @router.get("/{sid}/Reservations/{reservation_sid}")
    async def fetch_reservation(request: Request, workspace_sid: str, sid: str, reservation_sid: str,
                                account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        found = await reservations.get_reservation(pool, workspace_sid=workspace.sid, sid=reservation_sid, task_sid=sid)
        return render.reservation(found_or_404(found, f"Reservation {reservation_sid}"), base_of(context, request))

    @router.post("/{sid}/Reservations/{reservation_sid}")
    async def update_reservation(request: Request, workspace_sid: str, sid: str, reservation_sid: str, form: FormData,
                                 account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        base = base_of(context, request)
        updated = await apply_reservation_update(pool, workspace, form, sid=reservation_sid, task_sid=sid, base=base)
        return render.reservation(updated, base)

    return router
