"""Workers: creation, attributes (re-evaluating only this worker's queue memberships), activity, channels."""

from __future__ import annotations

from services.router import render
from services.router.announce import Occurrence, record
from services.router.domain.event_fields import worker_fields
from services.router.domain.expressions import parse
from services.router.domain.models import Activity, Worker, Workspace, attributes_of
from services.router.domain.routing import queue_admits
from services.router.handlers.wake import wake_dispatch
from services.router.store import task_queues, workers
from services.router.store.base import Connection


async def refresh_memberships(conn: Connection, worker: Worker) -> None:
    """A worker's attributes changed: evaluate every queue of its workspace against this worker alone."""
    attributes = attributes_of(worker.attributes)
    queues = await task_queues.all_task_queues(conn, workspace_sid=worker.workspace_sid)
    member_of = [queue.sid for queue in queues if queue_admits(parse(queue.target_workers), attributes)]
    await workers.set_memberships(conn, worker_sid=worker.sid, queue_sids=member_of)


async def worker_event(conn: Connection, workspace: Workspace, worker: Worker, event_type: str, description: str,
                       base: str) -> None:
    await record(conn, workspace, Occurrence(
        event_type=event_type, resource_type="worker", resource_sid=worker.sid, description=description,
        resource=render.worker(worker, base), fields=worker_fields(worker), worker_sid=worker.sid))


async def create_worker(conn: Connection, workspace: Workspace, *, friendly_name: str, attributes: str,
                        activity: Activity, base: str) -> Worker:
    sid = await workers.insert_worker(conn, account_sid=workspace.account_sid, workspace_sid=workspace.sid,
                                      friendly_name=friendly_name, attributes=attributes, activity_sid=activity.sid,
                                      available=activity.available)
    worker = await workers.get_worker(conn, workspace_sid=workspace.sid, sid=sid)
    assert worker is not None
    await refresh_memberships(conn, worker)
    await worker_event(conn, workspace, worker, "worker.created", f"Worker {friendly_name} created", base)
    if worker.available:
        await wake_dispatch(conn, workspace.sid, workers=[worker.sid])
    return worker


async def update_worker(conn: Connection, workspace: Workspace, worker: Worker, *, friendly_name: str | None,
                        attributes: str | None, activity: Activity | None, base: str) -> Worker:
    values = {key: value for key, value in (("friendly_name", friendly_name), ("attributes", attributes))
              if value is not None}
    if values:
        await workers.update_worker(conn, sid=worker.sid, values=values)
    if activity is not None and activity.sid != worker.activity_sid:
        await workers.set_worker_activity(conn, sid=worker.sid, activity_sid=activity.sid, available=activity.available)
    updated = await workers.get_worker(conn, workspace_sid=workspace.sid, sid=worker.sid)
    assert updated is not None
    if attributes is not None:
        await refresh_memberships(conn, updated)
        await worker_event(conn, workspace, updated, "worker.attributes.update",
                           f"Worker {updated.friendly_name} updated attributes", base)
    if activity is not None and activity.sid != worker.activity_sid:
        await worker_event(conn, workspace, updated, "worker.activity.update",
                           f"Worker {updated.friendly_name} updated to {activity.friendly_name} Activity", base)
    if updated.available:
        await wake_dispatch(conn, workspace.sid, workers=[updated.sid])
    return updated


async def move_worker_to(conn: Connection, workspace: Workspace, worker_sid: str, activity: Activity, base: str) -> None:
    """The engine moves a worker (reservation, assignment or timeout activity)."""
    worker = await workers.get_worker(conn, workspace_sid=workspace.sid, sid=worker_sid)
    if worker is None or worker.activity_sid == activity.sid:
        return
    await workers.set_worker_activity(conn, sid=worker.sid, activity_sid=activity.sid, available=activity.available)
    updated = await workers.get_worker(conn, workspace_sid=workspace.sid, sid=worker_sid)
    assert updated is not None
    await worker_event(conn, workspace, updated, "worker.activity.update",
                       f"Worker {updated.friendly_name} updated to {activity.friendly_name} Activity", base)
    if updated.available:
        await wake_dispatch(conn, workspace.sid, workers=[updated.sid])


async def update_channel(conn: Connection, workspace: Workspace, worker: Worker, channel_sid: str, *,
                         capacity: int | None, available: bool | None, base: str) -> None:
    await workers.update_worker_channel(conn, sid=channel_sid, capacity=capacity, available=available)
    if capacity is not None:
        await worker_event(conn, workspace, worker, "worker.capacity.update",
                           f"Worker {worker.friendly_name} capacity updated", base)
    if available is not None:
        await worker_event(conn, workspace, worker, "worker.channel.availability.update",
                           f"Worker {worker.friendly_name} channel availability updated", base)
    await wake_dispatch(conn, workspace.sid, workers=[worker.sid])
