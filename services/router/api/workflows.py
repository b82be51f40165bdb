"""`/taskrouter/v1/Workspaces/{WorkspaceSid}/Workflows`: configuration checked at write time."""

from typing import Any

from fastapi import APIRouter, Request, Response

from services.router import render
from services.router.announce import Occurrence, record
from services.router.api.deps import (
    ROOT,
    FormData,
    base_of,
    caller,
    checked_url,
    found_or_404,
    listing,
    page_of,
    workspace_or_404,
)
from services.router.domain.models import Workflow, Workspace
from services.router.domain.workflow_config import ConfigurationError, parse_configuration
from services.router.store import task_queues, workflows
from services.router.store.base import Connection
from shared.errors import invalid_parameter
from shared.forms import Form
from shared.runtime import ServiceContext


async def checked_configuration(conn: Connection, workspace: Workspace, text: str) -> str:
    """Twilio refuses a workflow whose configuration cannot route: bad JSON, a bad expression, an unknown queue."""
    try:
        config = parse_configuration(text)
    except ConfigurationError as error:
        raise invalid_parameter(f"Invalid Configuration: {error}") from error
    known = await task_queues.existing_queue_sids(conn, workspace_sid=workspace.sid, sids=sorted(config.queues))
    unknown = sorted(config.queues - known)
    if unknown:
        raise invalid_parameter(f"Invalid Configuration: TaskQueue {unknown[0]} is not a TaskQueue of this Workspace")
    return text


async def _event(conn: Connection, workspace: Workspace, workflow: Workflow, event_type: str, base: str) -> None:
    await record(conn, workspace, Occurrence(
        event_type=event_type, resource_type="workflow", resource_sid=workflow.sid,
        description=f"Workflow {workflow.friendly_name} {event_type.split('.')[1]}",
        resource=render.workflow(workflow, base), workflow_sid=workflow.sid,
        fields=[("WorkflowSid", workflow.sid), ("WorkflowName", workflow.friendly_name)]))


def workflows_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=ROOT + "/{workspace_sid}/Workflows")
    Caller = caller(context)
    pool = context.pool

    async def workflow_or_404(workspace_sid: str, sid: str) -> Workflow:
        return found_or_404(await workflows.get_workflow(pool, workspace_sid=workspace_sid, sid=sid),  # type: ignore[no-any-return]
                            f"Workflow {sid}")

    async def values_from(workspace: Workspace, form: Form) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if "FriendlyName" in form:
            values["friendly_name"] = form.required("FriendlyName", max_length=64)
        if "Configuration" in form:
            values["configuration"] = await checked_configuration(pool, workspace, form.required("Configuration"))
        for parameter, column in (("AssignmentCallbackUrl", "assignment_callback_url"),
                                  ("FallbackAssignmentCallbackUrl", "fallback_assignment_callback_url")):
            if parameter in form:
                values[column] = await checked_url(context, form.str(parameter) or None, parameter=parameter)
        if "TaskReservationTimeout" in form:
            values["task_reservation_timeout"] = form.int("TaskReservationTimeout", minimum=1, maximum=86400)
        return values

    @router.post("", status_code=201)
    async def create(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        form.required("FriendlyName", max_length=64)
        form.required("Configuration")
        values = await values_from(workspace, form)
        base = base_of(context, request)
        async with pool.acquire() as conn, conn.transaction():
            workflow = await workflows.insert_workflow(conn, account_sid=account.sid, workspace_sid=workspace.sid,
                                                       values=values)
            await _event(conn, workspace, workflow, "workflow.created", base)
        return render.workflow(workflow, base)

    @router.get("")
    async def list_(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        page, keyset = page_of(form)
        name = form.str("FriendlyName")
        rows = await workflows.list_workflows(pool, workspace_sid=workspace.sid, friendly_name=name, keyset=keyset)
        base = base_of(context, request)
        return listing(key="workflows", rows=rows, page=page, url=f"{base}{ROOT}/{workspace.sid}/Workflows",
                       draw=lambda row: render.workflow(row, base), filters=[("FriendlyName", name)])

    @router.get("/{sid}")
    async def fetch(request: Request, workspace_sid: str, sid: str, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        return render.workflow(await workflow_or_404(workspace.sid, sid), base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, workspace_sid: str, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        workflow = await workflow_or_404(workspace.sid, sid)
        values = await values_from(workspace, form)
        base = base_of(context, request)
        if values:
            async with pool.acquire() as conn, conn.transaction():
                workflow = await workflows.update_workflow(conn, sid=workflow.sid, values=values)
                await _event(conn, workspace, workflow, "workflow.updated", base)
        return render.workflow(workflow, base)

    @router.delete("/{sid}", status_code=204)
    async def delete(request: Request, workspace_sid: str, sid: str, account: Caller) -> Response:
        workspace = await workspace_or_404(context, account, workspace_sid)
        workflow = await workflow_or_404(workspace.sid, sid)
        async with pool.acquire() as conn, conn.transaction():
            await workflows.delete_workflow(conn, sid=workflow.sid)
            await _event(conn, workspace, workflow, "workflow.deleted", base_of(context, request))
        return Response(status_code=204)

    return router
