"""Moving a task through its workflow: entering a step, giving up on one, reserving workers for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.router import render
from services.router.announce import Occurrence, call_assignment_callback, record
from services.router.domain.event_fields import assignment_callback_fields, task_fields, worker_fields
from services.router.domain.models import Task, TaskQueue, Worker, Workspace, attributes_of
from services.router.domain.routing import Step, first_step, next_step, routing_config, skip_step, step_deadline
from services.router.handlers.wake import wake_dispatch
from services.router.store import activities, task_queues, tasks, workers, workflows
from services.router.store.base import Connection


async def load_task(conn: Connection, workspace_sid: str, sid: str) -> Task:
    task = await tasks.get_task(conn, workspace_sid=workspace_sid, sid=sid)
    assert task is not None
    return task


async def task_event(conn: Connection, workspace: Workspace, task: Task, event_type: str, description: str, base: str,
                     *, extra: list[tuple[str, str]] | None = None) -> None:
    await record(conn, workspace, Occurrence(
        event_type=event_type, resource_type="task", resource_sid=task.sid, description=description,
        resource=render.task(task, base), fields=task_fields(task) + (extra or []), task_sid=task.sid,
        task_queue_sid=task.task_queue_sid, workflow_sid=task.workflow_sid, task_channel=task.task_channel_unique_name))


async def _known_worker_sid(conn: Connection, workspace_sid: str, step: Step) -> str | None:
    if step.known_worker is None or not step.by_friendly_name:
        return step.known_worker
    found = await conn.fetchval("SELECT sid FROM workers WHERE workspace_sid = $1 AND friendly_name = $2",
                                workspace_sid, step.known_worker)
    # An unknown name must match nobody, not everybody.
    return str(found) if found else f"unknown:{step.known_worker}"


async def enter_step(conn: Connection, workspace: Workspace, task: Task, step: Step, *, base: str) -> Task:
    await tasks.update_task(conn, sid=task.sid, values={
        "filter_index": step.filter_index, "target_index": step.target_index, "task_queue_sid": step.queue_sid,
        "task_queue_entered_date": datetime.now(UTC), "routing_priority": step.priority,
        "target_expression": step.expression, "target_order_by": step.order_by, "target_skip_if": step.skip_if,
        "known_worker_sid": await _known_worker_sid(conn, workspace.sid, step), "step_tried": False,
        "step_deadline": step_deadline(step, task.date_created),
    })
    entered = await load_task(conn, workspace.sid, task.sid)
    await task_event(conn, workspace, entered, "task-queue.entered",
                     f"Task {entered.sid} entered TaskQueue {entered.task_queue_friendly_name}", base)
    if step.skip_if:
        # `skip_if` is judged as the task enters the target, on the queue's workers at that moment.
        available, unavailable, by_activity = await task_queues.queue_presence(conn, step.queue_sid)
        if skip_step(step.skip_if, available=available, unavailable=unavailable, by_activity=by_activity):
            return await leave_step(conn, workspace, entered, why="skipped", base=base)
    await wake_dispatch(conn, workspace.sid, queues=[step.queue_sid])
    return entered


async def route_new_task(conn: Connection, workspace: Workspace, task: Task, *, base: str) -> Task:
    """Enter the workflow: the first matching filter at its first target, else the default filter."""
    if task.workflow_sid is None:
        return task
    workflow = await workflows.get_workflow_by_sid(conn, sid=task.workflow_sid)
    assert workflow is not None
    step = first_step(routing_config(workflow.configuration), attributes_of(task.attributes), task.priority)
    await task_event(conn, workspace, task, "workflow.entered", f"Task {task.sid} entered Workflow {workflow.friendly_name}",
                     base)
    if step is None:
        return task
    await task_event(conn, workspace, task, "workflow.target-matched",
                     f"Task {task.sid} matched a target of Workflow {workflow.friendly_name}", base)
    return await enter_step(conn, workspace, task, step, base=base)


async def leave_step(conn: Connection, workspace: Workspace, task: Task, *, why: str, base: str) -> Task:
    """The step timed out or was skipped: on to the next target, then the default filter, then stay."""
    if task.workflow_sid is None:
        return task
    workflow = await workflows.get_workflow_by_sid(conn, sid=task.workflow_sid)
    assert workflow is not None
    current = Step(filter_index=task.filter_index, target_index=task.target_index, queue_sid=task.task_queue_sid or "",
                   priority=task.routing_priority)
    following = next_step(routing_config(workflow.configuration), current, attributes_of(task.attributes), task.priority)
    if why == "skipped":
        await task_event(conn, workspace, task, "workflow.skipped", f"Task {task.sid} skipped a target", base)
    else:
        await task_event(conn, workspace, task, "task-queue.timeout", f"Task {task.sid} timed out of its TaskQueue", base)
    if following is None:
        await tasks.update_task(conn, sid=task.sid, values={"step_deadline": None, "target_skip_if": None})
        await task_event(conn, workspace, task, "workflow.timeout", f"Task {task.sid} ran out of workflow targets", base)
        return await load_task(conn, workspace.sid, task.sid)
    moved = await enter_step(conn, workspace, task, following, base=base)
    await task_event(conn, workspace, moved, "task-queue.moved", f"Task {task.sid} moved to another TaskQueue", base)
    return moved


async def reserve(conn: Connection, workspace: Workspace, task: Task, queue: TaskQueue, worker: Worker, *,
                  reservation_timeout: int, base: str) -> str:
    """Offer the task to the worker; the caller has already taken the worker channel's capacity."""
    from services.router.store import reservations

    sid = await reservations.insert_reservation(
        conn, account_sid=workspace.account_sid, workspace_sid=workspace.sid, task_sid=task.sid, worker_sid=worker.sid,
        task_queue_sid=queue.sid, task_channel_sid=task.task_channel_sid,
        expires_at=datetime.now(UTC) + timedelta(seconds=reservation_timeout),
    )
    await tasks.move_task_status(conn, sid=task.sid, from_statuses=["pending", "reserved"], to_status="reserved")
    reservation = await reservations.get_reservation(conn, workspace_sid=workspace.sid, sid=sid)
    assert reservation is not None
    await record(conn, workspace, Occurrence(
        event_type="reservation.created", resource_type="reservation", resource_sid=sid,
        description=f"Reservation {sid} created for Worker {worker.friendly_name}",
        resource=render.reservation(reservation, base),
        # The timeout lets an agent's screen count down to it (as Twilio's worker SDK shows `timeout`).
        fields=[("ReservationSid", sid), ("ReservationTimeout", str(reservation_timeout)), *task_fields(task),
                *worker_fields(worker)],
        task_sid=task.sid, worker_sid=worker.sid, reservation_sid=sid, task_queue_sid=queue.sid,
        workflow_sid=task.workflow_sid, task_channel=task.task_channel_unique_name))
    workflow = await workflows.get_workflow_by_sid(conn, sid=task.workflow_sid) if task.workflow_sid else None
    if workflow is not None and workflow.assignment_callback_url:
        fields = assignment_callback_fields(workspace, task, worker, reservation_sid=sid, task_queue_sid=queue.sid)
        await call_assignment_callback(conn, workspace, url=workflow.assignment_callback_url,
                                       fallback_url=workflow.fallback_assignment_callback_url, task_sid=task.sid,
                                       reservation_sid=sid, fields=fields)
    if queue.reservation_activity_sid:
        activity = await activities.get_activity(conn, workspace_sid=workspace.sid, sid=queue.reservation_activity_sid)
        if activity is not None:
            from services.router.handlers.workers import move_worker_to

            await move_worker_to(conn, workspace, worker.sid, activity, base)
    return sid


async def release(conn: Connection, *, worker_sid: str, task_channel_sid: str) -> None:
    await workers.release_capacity(conn, worker_sid=worker_sid, task_channel_sid=task_channel_sid)
