"""Task queues: membership is re-evaluated for this queue alone when its expression changes."""

from __future__ import annotations

from typing import Any

from services.router import render
from services.router.announce import Occurrence, record
from services.router.domain.expressions import parse
from services.router.domain.models import TaskQueue, Workspace, attributes_of
from services.router.domain.routing import queue_admits
from services.router.handlers.wake import wake_dispatch
from services.router.store import task_queues, workers
from services.router.store.base import Connection


async def refresh_queue_members(conn: Connection, workspace_sid: str, queue_sid: str, target_workers: str) -> None:
    expression = parse(target_workers)
    members = [sid for sid, attributes in await workers.worker_attributes(conn, workspace_sid=workspace_sid)
               if queue_admits(expression, attributes_of(attributes))]
    await workers.set_queue_members(conn, task_queue_sid=queue_sid, worker_sids=members)


async def _event(conn: Connection, workspace: Workspace, queue: TaskQueue, event_type: str, description: str,
                 base: str) -> None:
    await record(conn, workspace, Occurrence(
        event_type=event_type, resource_type="task_queue", resource_sid=queue.sid, description=description,
        resource=render.task_queue(queue, base), task_queue_sid=queue.sid,
        fields=[("TaskQueueSid", queue.sid), ("TaskQueueName", queue.friendly_name),
                ("TaskQueueTargetExpression", queue.target_workers)]))


async def create_task_queue(conn: Connection, workspace: Workspace, values: dict[str, Any], *, base: str) -> TaskQueue:
    sid = await task_queues.insert_task_queue(conn, account_sid=workspace.account_sid, workspace_sid=workspace.sid,
                                              values=values)
    queue = await task_queues.get_task_queue(conn, workspace_sid=workspace.sid, sid=sid)
    assert queue is not None
    await refresh_queue_members(conn, workspace.sid, sid, queue.target_workers)
    await _event(conn, workspace, queue, "task-queue.created", f"TaskQueue {queue.friendly_name} created", base)
    return queue


async def update_task_queue(conn: Connection, workspace: Workspace, queue: TaskQueue, values: dict[str, Any], *,
                            base: str) -> TaskQueue:
    if values:
        await task_queues.update_task_queue(conn, sid=queue.sid, values=values)
    updated = await task_queues.get_task_queue(conn, workspace_sid=workspace.sid, sid=queue.sid)
    assert updated is not None
    if "target_workers" in values and values["target_workers"] != queue.target_workers:
        await refresh_queue_members(conn, workspace.sid, queue.sid, updated.target_workers)
        await _event(conn, workspace, updated, "task-queue.expression.updated",
                     f"TaskQueue {updated.friendly_name} expression updated", base)
        await wake_dispatch(conn, workspace.sid)
    return updated


async def delete_task_queue(conn: Connection, workspace: Workspace, queue: TaskQueue, *, base: str) -> None:
    await task_queues.delete_task_queue(conn, sid=queue.sid)
    await _event(conn, workspace, queue, "task-queue.deleted", f"TaskQueue {queue.friendly_name} deleted", base)
