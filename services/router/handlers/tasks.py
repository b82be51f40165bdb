"""Tasks: creation (entering the workflow), updates, cancel/wrap-up/complete, TTL expiry, deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.router.domain.lifecycle import task_may_move
from services.router.domain.models import Task, TaskChannel, Workflow, Workspace
from services.router.handlers import reservations as offers
from services.router.handlers.routing import load_task, route_new_task, task_event
from services.router.store import reservations, tasks
from services.router.store.base import Connection
from shared.errors import TwilioError


async def create_task(conn: Connection, workspace: Workspace, *, workflow: Workflow | None, attributes: str,
                      priority: int, timeout: int, channel: TaskChannel, routing_target: str | None,
                      ignore_capacity: bool, virtual_start_time: datetime | None, base: str) -> Task:
    now = datetime.now(UTC)
    values = {
        "attributes": attributes, "priority": priority, "routing_priority": priority, "timeout": timeout,
        "task_channel_sid": channel.sid, "workflow_sid": workflow.sid if workflow else None,
        "routing_target": routing_target, "ignore_capacity": ignore_capacity,
        "virtual_start_time": virtual_start_time or now, "expires_at": now + timedelta(seconds=timeout),
    }
    sid = await tasks.insert_task(conn, account_sid=workspace.account_sid, workspace_sid=workspace.sid, values=values)
    task = await load_task(conn, workspace.sid, sid)
    await task_event(conn, workspace, task, "task.created", f"Task {sid} created", base)
    return await route_new_task(conn, workspace, task, base=base)


def _refuse(task: Task, wanted: str) -> TwilioError:
    return TwilioError(400, 20001, f"Task {task.sid} cannot move from {task.assignment_status} to {wanted}")


async def cancel_task(conn: Connection, workspace: Workspace, task: Task, *, reason: str | None, base: str) -> Task:
    if not task_may_move(task.assignment_status, "canceled"):
        raise _refuse(task, "canceled")
    for pending in await reservations.reservations_of_task(conn, task_sid=task.sid, statuses=["pending"]):
        await offers.cancel(conn, workspace, pending, base=base)
    await tasks.move_task_status(conn, sid=task.sid, from_statuses=["pending", "reserved"], to_status="canceled",
                                 reason=reason)
    await tasks.update_task(conn, sid=task.sid, values={"step_deadline": None})
    canceled = await load_task(conn, workspace.sid, task.sid)
    await task_event(conn, workspace, canceled, "task.canceled", f"Task {task.sid} canceled", base)
    from services.router.handlers.interactions import interaction_task_canceled  # Flex: nobody left to answer

    await interaction_task_canceled(conn, canceled, base=base)
    return canceled


async def wrap_up_task(conn: Connection, workspace: Workspace, task: Task, *, reason: str | None, base: str) -> Task:
    if not task_may_move(task.assignment_status, "wrapping"):
        raise _refuse(task, "wrapping")
    for accepted in await reservations.reservations_of_task(conn, task_sid=task.sid, statuses=["accepted"]):
        await offers.wrap_up(conn, workspace, accepted, base=base, task_too=False)
    await tasks.move_task_status(conn, sid=task.sid, from_statuses=["assigned"], to_status="wrapping", reason=reason)
    wrapped = await load_task(conn, workspace.sid, task.sid)
    await task_event(conn, workspace, wrapped, "task.wrapup", f"Task {task.sid} wrapping up", base)
    return wrapped


async def complete_task(conn: Connection, workspace: Workspace, task: Task, *, reason: str | None, base: str) -> Task:
    if not task_may_move(task.assignment_status, "completed"):
        raise _refuse(task, "completed")
    for held in await reservations.reservations_of_task(conn, task_sid=task.sid, statuses=["accepted", "wrapping"]):
        await offers.complete(conn, workspace, held, base=base, task_too=False)
    await tasks.move_task_status(conn, sid=task.sid, from_statuses=["assigned", "wrapping"], to_status="completed",
                                 reason=reason)
    completed = await load_task(conn, workspace.sid, task.sid)
    await task_event(conn, workspace, completed, "task.completed", f"Task {task.sid} completed", base)
    return completed


async def update_task(conn: Connection, workspace: Workspace, task: Task, *, attributes: str | None,
                      priority: int | None, channel: TaskChannel | None, status: str | None, reason: str | None,
                      virtual_start_time: datetime | None, base: str) -> Task:
    values: dict[str, object] = {}
    if attributes is not None:
        values["attributes"] = attributes
    if priority is not None:
        values["priority"] = priority
        values["routing_priority"] = priority
    if channel is not None:
        values["task_channel_sid"] = channel.sid
    if virtual_start_time is not None:
        values["virtual_start_time"] = virtual_start_time
    if values:
        await tasks.update_task(conn, sid=task.sid, values=values)
        task = await load_task(conn, workspace.sid, task.sid)
        await task_event(conn, workspace, task, "task.updated", f"Task {task.sid} updated", base)
        if attributes is not None and task.assignment_status == "pending":
            # New attributes may match another filter: the task enters its workflow again.
            task = await route_new_task(conn, workspace, task, base=base)
    if status == "canceled":
        task = await cancel_task(conn, workspace, task, reason=reason, base=base)
    elif status == "wrapping":
        task = await wrap_up_task(conn, workspace, task, reason=reason, base=base)
    elif status == "completed":
        task = await complete_task(conn, workspace, task, reason=reason, base=base)
    return task


async def expire_task(conn: Connection, workspace: Workspace, task: Task, *, base: str) -> None:
    """Task Timeout (TTL) passed while it still waited: canceled, as TaskRouter does."""
    await cancel_task(conn, workspace, task, reason="Task TTL Exceeded", base=base)


async def delete_task(conn: Connection, workspace: Workspace, task: Task, *, base: str) -> None:
    for held in await reservations.reservations_of_task(conn, task_sid=task.sid, statuses=["pending", "accepted",
                                                                                            "wrapping"]):
        await offers.cancel(conn, workspace, held, base=base)
    await task_event(conn, workspace, task, "task.deleted", f"Task {task.sid} deleted", base)
    await tasks.delete_task(conn, sid=task.sid)
