"""The dispatcher: wakes on NOTIFY (or a poll), and for each workspace with waiting tasks reserves workers.

PostgreSQL is the record and the index: candidates come from a partial index of ready worker
channels; every reservation takes capacity with a guarded UPDATE (`... WHERE ready`), and a task
is picked with FOR UPDATE SKIP LOCKED, so two router instances never over-reserve a worker nor
reserve a task twice. One instance at a time dispatches a workspace (transaction-scoped advisory
lock); the other keeps the workspace marked and retries shortly, so no wake-up is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from dataclasses import dataclass, field

import asyncpg

from services.router.domain.models import Task, TaskQueue, Workflow, Workspace, attributes_of
from services.router.domain.routing import Candidate, choose_workers, skip_step
from services.router.domain.workflow_config import parse_order_by
from services.router.engine.candidates import available_workers, queue_presence
from services.router.handlers.routing import leave_step, reserve
from services.router.handlers.wake import dispatch_channel
from services.router.store import task_queues, tasks, workers, workflows, workspaces

log = logging.getLogger(__name__)

BATCH = 200  # reservations per transaction: commits batch, the lock is held briefly


@dataclass
class DecisionTimings:
    """Seconds spent choosing workers for one task (query + choice), kept for the benchmark."""

    samples: list[float] = field(default_factory=list)
    reservations: int = 0

    def add(self, seconds: float) -> None:
        if len(self.samples) < 1_000_000:
            self.samples.append(seconds)


def _lock_key(workspace_sid: str) -> int:
    return zlib.crc32(f"router-dispatch:{workspace_sid}".encode())


class Dispatcher:
    def __init__(self, pool: asyncpg.Pool, *, base: str, poll_interval: float) -> None:
        self._pool = pool
        self._base = base
        self._poll_interval = poll_interval
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self.timings = DecisionTimings()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._dirty.add(payload)
        self._wake.set()

    async def run(self) -> None:
        listener = await self._pool.acquire()
        channel = await dispatch_channel(listener)
        await listener.add_listener(channel, self._on_notify)
        last_sweep = 0.0
        try:
            while True:
                if time.monotonic() - last_sweep >= self._poll_interval:
                    # The safety net: work another instance left, or a notification lost on reconnect.
                    async with self._pool.acquire() as conn:
                        self._dirty.update(await tasks.workspaces_with_pending_tasks(conn))
                    last_sweep = time.monotonic()
                busy = False
                for workspace_sid in list(self._dirty):
                    self._dirty.discard(workspace_sid)
                    outcome = await self.dispatch_workspace(workspace_sid)
                    if outcome != "idle":
                        # More may wait (a full batch), or another instance holds the lock: come back soon.
                        self._dirty.add(workspace_sid)
                        busy = busy or outcome == "busy"
                if self._dirty:
                    await asyncio.sleep(0.02 if busy else 0)
                    continue
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)
        finally:
            with contextlib.suppress(Exception):
                await listener.remove_listener(channel, self._on_notify)
            await self._pool.release(listener)

    async def dispatch_workspace(self, workspace_sid: str) -> str:
        """'idle' when nothing more can be done now, 'more' after a full batch, 'busy' when locked elsewhere."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _lock_key(workspace_sid)):
                return "busy"
            workspace = await workspaces.get_workspace_by_sid(conn, sid=workspace_sid)
            if workspace is None:
                return "idle"
            made = await _Round(self, conn, workspace).run()
            return "more" if made >= BATCH else "idle"


class _Round:
    """One dispatch pass over a workspace's queues, inside one transaction."""

    def __init__(self, dispatcher: Dispatcher, conn: asyncpg.Connection, workspace: Workspace) -> None:
        self.dispatcher = dispatcher
        self.conn = conn
        self.workspace = workspace
        self.made = 0
        self.workflows: dict[str, Workflow] = {}
        # (queue, channel) pairs with no ready member left this round: their other tasks are not tried.
        self.exhausted: set[tuple[str, str]] = set()

    async def run(self) -> int:
        queues = await task_queues.all_task_queues(self.conn, workspace_sid=self.workspace.sid)
        for queue in queues:
            if self.made >= BATCH:
                break
            await self._queue(queue)
        return self.made

    async def _waiting(self, queue: TaskQueue) -> list[Task]:
        order = "t.virtual_start_time DESC" if queue.task_order == "LIFO" else "t.virtual_start_time"
        rows = await self.conn.fetch(
            f"SELECT {tasks.COLUMNS} {tasks.FROM} WHERE t.task_queue_sid = $1 AND t.assignment_status = 'pending' "
            f"ORDER BY t.routing_priority DESC, {order}, t.sid LIMIT $2 FOR UPDATE OF t SKIP LOCKED",
            queue.sid, BATCH,
        )
        return [Task(**dict(row)) for row in rows]

    async def _queue(self, queue: TaskQueue) -> None:
        for task in await self._waiting(queue):
            if self.made >= BATCH:
                return
            if (queue.sid, task.task_channel_sid) in self.exhausted:
                continue
            await self._task(queue, task)

    async def _workflow(self, sid: str | None) -> Workflow | None:
        if sid is None:
            return None
        if sid not in self.workflows:
            found = await workflows.get_workflow_by_sid(self.conn, sid=sid)
            if found is None:
                return None
            self.workflows[sid] = found
        return self.workflows[sid]

    async def _task(self, queue: TaskQueue, task: Task) -> None:
        restricted = bool(task.target_expression or task.target_order_by or task.known_worker_sid)
        wanted = queue.max_reserved_workers
        started = time.perf_counter()
        # Without extra conditions the first ready members are the answer; with them, look further.
        found = await available_workers(self.conn, task, limit=wanted if not restricted else 1000)
        chosen = choose_workers(
            [Candidate(worker_sid=a.worker.sid, friendly_name=a.worker.friendly_name,
                       attributes=attributes_of(a.worker.attributes), idle_since=a.idle_since) for a in found],
            task_attributes=attributes_of(task.attributes), expression=task.target_expression,
            order_by=parse_order_by(task.target_order_by) if task.target_order_by else (),
            known_worker=None, by_friendly_name=False, wanted=wanted,
        )
        self.dispatcher.timings.add(time.perf_counter() - started)
        by_sid = {a.worker.sid: a.worker for a in found}
        workflow = await self._workflow(task.workflow_sid)
        timeout = workflow.task_reservation_timeout if workflow else 120
        reserved = 0
        for candidate in chosen:
            # The guard: capacity is taken only if the channel is still ready at this instant.
            if not await workers.take_capacity(self.conn, worker_sid=candidate.worker_sid,
                                               task_channel_sid=task.task_channel_sid):
                continue
            await reserve(self.conn, self.workspace, task, queue, by_sid[candidate.worker_sid],
                          reservation_timeout=timeout, base=self.dispatcher._base)
            reserved += 1
        self.made += reserved
        self.dispatcher.timings.reservations += reserved
        if reserved:
            return
        if not restricted and not found:
            self.exhausted.add((queue.sid, task.task_channel_sid))
        if not task.step_tried:
            await tasks.update_task(self.conn, sid=task.sid, values={"step_tried": True})
            if task.target_skip_if:
                available, unavailable, by_activity = await queue_presence(self.conn, queue.sid)
                if skip_step(task.target_skip_if, available=available, unavailable=unavailable,
                             by_activity=by_activity):
                    await leave_step(self.conn, self.workspace, task, why="skipped", base=self.dispatcher._base)
