"""Reservation lifecycle: accept, reject, time out, wrap up, complete, cancel, rescind."""

from __future__ import annotations

from services.router import render
from services.router.announce import Occurrence, record
from services.router.domain.event_fields import task_fields, worker_fields
from services.router.domain.lifecycle import reservation_may_move
from services.router.domain.models import Activity, Reservation, Workspace
from services.router.handlers.routing import load_task, task_event
from services.router.handlers.wake import wake_dispatch
from services.router.handlers.workers import move_worker_to
from services.router.store import activities, reservations, task_queues, tasks, workers
from services.router.store.base import Connection
from shared.errors import TwilioError

ENDING = frozenset({"rejected", "timeout", "canceled", "rescinded", "completed"})


def invalid_move(reservation: Reservation, wanted: str) -> TwilioError:
    return TwilioError(400, 20001,
                       f"Reservation {reservation.sid} cannot move from {reservation.reservation_status} to {wanted}")


async def _move(conn: Connection, workspace: Workspace, reservation: Reservation, status: str, *, base: str,
                description: str) -> Reservation:
    """Change the status, free capacity when the reservation ends, and record `reservation.<event>`."""
    ends = status in ENDING
    await reservations.set_reservation_status(conn, sid=reservation.sid, status=status, releases_capacity=ends)
    if ends and reservation.holds_capacity:
        await workers.release_capacity(conn, worker_sid=reservation.worker_sid,
                                       task_channel_sid=reservation.task_channel_sid)
        await wake_dispatch(conn, workspace.sid, workers=[reservation.worker_sid])
    moved = await reservations.get_reservation(conn, workspace_sid=workspace.sid, sid=reservation.sid)
    assert moved is not None
    task = await load_task(conn, workspace.sid, reservation.task_sid)
    worker = await workers.get_worker(conn, workspace_sid=workspace.sid, sid=reservation.worker_sid)
    event = "wrapup" if status == "wrapping" else status
    await record(conn, workspace, Occurrence(
        event_type=f"reservation.{event}", resource_type="reservation", resource_sid=reservation.sid,
        description=description, resource=render.reservation(moved, base),
        fields=[("ReservationSid", reservation.sid), *task_fields(task), *(worker_fields(worker) if worker else [])],
        task_sid=task.sid, worker_sid=reservation.worker_sid, reservation_sid=reservation.sid,
        task_queue_sid=reservation.task_queue_sid, workflow_sid=task.workflow_sid,
        task_channel=task.task_channel_unique_name))
    return moved


async def _back_to_pending_if_unreserved(conn: Connection, workspace: Workspace, reservation: Reservation) -> None:
    """The last pending offer ended without acceptance: the task waits (and routes) again in its queue."""
    task_sid = reservation.task_sid
    still = await reservations.reservations_of_task(conn, task_sid=task_sid, statuses=["pending"])
    if not still and await tasks.move_task_status(conn, sid=task_sid, from_statuses=["reserved"], to_status="pending"):
        task = await load_task(conn, workspace.sid, task_sid)
        await wake_dispatch(conn, workspace.sid, queues=[task.task_queue_sid or reservation.task_queue_sid])


async def accept(conn: Connection, workspace: Workspace, reservation: Reservation, *, base: str) -> Reservation:
    if not reservation_may_move(reservation.reservation_status, "accepted"):
        raise invalid_move(reservation, "accepted")
    moved = await _move(conn, workspace, reservation, "accepted", base=base,
                        description=f"Reservation {reservation.sid} accepted")
    await tasks.move_task_status(conn, sid=reservation.task_sid, from_statuses=["reserved"], to_status="assigned")
    # Several workers were offered the task (MaxReservedWorkers): the first to accept wins.
    for other in await reservations.reservations_of_task(conn, task_sid=reservation.task_sid, statuses=["pending"]):
        await _move(conn, workspace, other, "rescinded", base=base, description=f"Reservation {other.sid} rescinded")
    task = await load_task(conn, workspace.sid, reservation.task_sid)
    await task_event(conn, workspace, task, "task.updated", f"Task {task.sid} assigned", base)
    if reservation.task_queue_sid:
        queue = await task_queues.get_task_queue(conn, workspace_sid=workspace.sid, sid=reservation.task_queue_sid)
        if queue is not None and queue.assignment_activity_sid:
            activity = await activities.get_activity(conn, workspace_sid=workspace.sid, sid=queue.assignment_activity_sid)
            if activity is not None:
                await move_worker_to(conn, workspace, reservation.worker_sid, activity, base)
    from services.router.handlers.interactions import agent_accepted  # Flex: the agent joins the conversation

    await agent_accepted(conn, workspace, moved, base=base)
    return moved


async def reject(conn: Connection, workspace: Workspace, reservation: Reservation, *, activity: Activity | None,
                 base: str) -> Reservation:
    if not reservation_may_move(reservation.reservation_status, "rejected"):
        raise invalid_move(reservation, "rejected")
    moved = await _move(conn, workspace, reservation, "rejected", base=base,
                        description=f"Reservation {reservation.sid} rejected")
    if activity is not None:
        await move_worker_to(conn, workspace, reservation.worker_sid, activity, base)
    await _back_to_pending_if_unreserved(conn, workspace, reservation)
    return moved


async def time_out(conn: Connection, workspace: Workspace, reservation: Reservation, *, base: str) -> None:
    """Not answered in TaskReservationTimeout: the worker goes to the timeout activity, the task is offered again."""
    await _move(conn, workspace, reservation, "timeout", base=base, description=f"Reservation {reservation.sid} timed out")
    if workspace.timeout_activity_sid:
        activity = await activities.get_activity(conn, workspace_sid=workspace.sid, sid=workspace.timeout_activity_sid)
        if activity is not None:
            await move_worker_to(conn, workspace, reservation.worker_sid, activity, base)
    await _back_to_pending_if_unreserved(conn, workspace, reservation)


async def wrap_up(conn: Connection, workspace: Workspace, reservation: Reservation, *, base: str,
                  task_too: bool = True) -> Reservation:
    if not reservation_may_move(reservation.reservation_status, "wrapping"):
        raise invalid_move(reservation, "wrapping")
    moved = await _move(conn, workspace, reservation, "wrapping", base=base,
                        description=f"Reservation {reservation.sid} wrapping up")
    if task_too and await tasks.move_task_status(conn, sid=reservation.task_sid, from_statuses=["assigned"],
                                                 to_status="wrapping"):
        task = await load_task(conn, workspace.sid, reservation.task_sid)
        await task_event(conn, workspace, task, "task.wrapup", f"Task {task.sid} wrapping up", base)
    return moved


async def complete(conn: Connection, workspace: Workspace, reservation: Reservation, *, base: str,
                   task_too: bool = True) -> Reservation:
    if not reservation_may_move(reservation.reservation_status, "completed"):
        raise invalid_move(reservation, "completed")
    moved = await _move(conn, workspace, reservation, "completed", base=base,
                        description=f"Reservation {reservation.sid} completed")
    if task_too and await tasks.move_task_status(conn, sid=reservation.task_sid, from_statuses=["assigned", "wrapping"],
                                                 to_status="completed", reason="reservation completed"):
        task = await load_task(conn, workspace.sid, reservation.task_sid)
        await task_event(conn, workspace, task, "task.completed", f"Task {task.sid} completed", base)
    return moved


async def cancel(conn: Connection, workspace: Workspace, reservation: Reservation, *, base: str) -> None:
    await _move(conn, workspace, reservation, "canceled", base=base, description=f"Reservation {reservation.sid} canceled")
