"""The dispatcher: wakes on NOTIFY (or a poll), and for each workspace with waiting tasks reserves workers.

One dispatch round is one transaction under a transaction-scoped advisory lock on the workspace, so
one instance at a time dispatches a workspace; the other keeps it marked and comes back shortly, so
no wake-up is lost. A round decides in memory (engine/index.py: ready members per queue and task
channel, longest idle first, from one query; queues, memberships, attributes and workflows from a
cache every instance keeps right through NOTIFY) and writes with a handful of set-based statements
(store/dispatch.py), however many reservations it makes. PostgreSQL stays the arbiter: waiting tasks
are locked FOR UPDATE SKIP LOCKED, and capacity is taken by a guarded UPDATE that re-checks readiness,
capacity, queue membership and, without multitasking, that the worker holds no other task.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from services.router import render
from services.router.announce import Occurrence, assignment_callback_message, record_many
from services.router.domain.event_fields import assignment_callback_fields, task_fields, worker_fields
from services.router.domain.models import Reservation, Task, TaskQueue, Workspace, attributes_of
from services.router.domain.routing import Candidate, choose_workers
from services.router.domain.workflow_config import OrderKey, parse_order_by
from services.router.engine.index import (
    INDEX_CHANNEL_SQL,
    READY_REFRESH_SECONDS,
    IndexCache,
    ReadyWorkers,
    RoutingIndex,
    affected_queues,
)
from services.router.handlers.wake import Wake, dispatch_channel, parse_wake
from services.router.store import activities, tasks, workspaces
from services.router.store import dispatch as store
from shared.broker.topology import COMMANDS
from shared.notifications import Wakeup
from shared.outages import Outage, is_infrastructure_failure
from shared.sids import new_sid

log = logging.getLogger(__name__)

BATCH = 1000  # reservations per round: commits batch, the workspace lock is held briefly
PER_QUEUE_MIN = 50  # waiting tasks read per servable queue and round, at least
DEFAULT_RESERVATION_TIMEOUT = 120


@dataclass
class DecisionTimings:
    """Seconds spent choosing workers for one task (in memory), kept for the benchmark."""

    samples: list[float] = field(default_factory=list)
    reservations: int = 0
    rounds: list[tuple[float, int]] = field(default_factory=list)  # (seconds, reservations) per committed round

    def add(self, seconds: float) -> None:
        if len(self.samples) < 1_000_000:
            self.samples.append(seconds)


def _lock_key(workspace_sid: str) -> int:
    return zlib.crc32(f"router-dispatch:{workspace_sid}".encode())


@dataclass
class Scope:
    """What a workspace's next round must look at: everything, or the queues (and workers' queues) named."""

    everything: bool = False
    queues: set[str] = field(default_factory=set)
    workers: set[str] = field(default_factory=set)

    def add(self, wake: Wake) -> None:
        if wake.everything:
            self.everything = True
        self.queues |= wake.queues
        self.workers |= wake.workers

    def merge(self, other: Scope) -> None:
        self.everything = self.everything or other.everything
        self.queues |= other.queues
        self.workers |= other.workers


EVERYTHING = Scope(everything=True)


@functools.lru_cache(maxsize=1024)
def _order_keys(text: str) -> tuple[OrderKey, ...]:
    return parse_order_by(text)


class Dispatcher:
    def __init__(self, pool: asyncpg.Pool, *, base: str, poll_interval: float) -> None:
        self._pool = pool
        self._base = base
        self._poll_interval = poll_interval
        self._dirty: dict[str, Scope] = {}
        self._index_channel = ""
        self._last_sweep = 0.0
        self._outage = Outage(log, "the router's dispatcher")
        self.index = IndexCache()
        self.ready: dict[str, ReadyWorkers] = {}  # per workspace, kept across rounds
        self.stale: dict[str, set[str]] = {}  # per workspace, workers whose channels must be read again
        self.timings = DecisionTimings()

    def _mark(self, workspace_sid: str, scope: Scope) -> None:
        self._dirty.setdefault(workspace_sid, Scope()).merge(scope)

    def _on_notify(self, channel: str, payload: str) -> None:
        if channel == self._index_channel:
            self.index.invalidate()
            return
        wake = parse_wake(payload)
        self._dirty.setdefault(wake.workspace_sid, Scope()).add(wake)
        if wake.workers:
            self.stale.setdefault(wake.workspace_sid, set()).update(wake.workers)

    def _forget_all(self) -> None:
        """Notifications may have been missed (the database restarted): read everything again."""
        self.index.invalidate()
        self.ready.clear()
        self._last_sweep = 0.0

    async def run(self) -> None:
        async with self._pool.acquire() as conn:
            channel = await dispatch_channel(conn)
            self._index_channel = str(await conn.fetchval(f"SELECT {INDEX_CHANNEL_SQL}"))
        # Index changes first: a change's wake-up then always finds the index already dropped.
        wakeup = Wakeup(self._pool, [self._index_channel, channel], where="routing", on_notify=self._on_notify,
                        on_relisten=self._forget_all)
        await wakeup.start()
        self.index.invalidate()  # anything cached before listening may have missed a change
        self._last_sweep = 0.0
        try:
            while True:
                try:
                    await self._round()
                    self._outage.recovered()
                except Exception as error:
                    if not is_infrastructure_failure(error):
                        raise
                    self._outage.failed(error)
                    self._forget_all()
                if self._dirty:
                    continue
                wakeup.clear()
                await wakeup.wait(self._poll_interval)
        finally:
            await wakeup.stop()

    async def _round(self) -> None:
        """Dispatch what is marked, until nothing is (or another instance holds what is left)."""
        while True:
            if time.monotonic() - self._last_sweep >= self._poll_interval:
                # The safety net: work another instance left, or a notification lost on reconnect.
                async with self._pool.acquire() as conn:
                    for workspace_sid in await tasks.workspaces_with_pending_tasks(conn):
                        self._mark(workspace_sid, EVERYTHING)
                self._last_sweep = time.monotonic()
            busy = False
            for workspace_sid in list(self._dirty):
                scope = self._dirty.pop(workspace_sid)
                try:
                    outcome = await self.dispatch_workspace(workspace_sid, scope)
                except BaseException:
                    self._mark(workspace_sid, scope)  # tried again once the database answers
                    raise
                if outcome != "idle":
                    # More may wait (a full batch), or another instance holds the lock: come back soon.
                    self._mark(workspace_sid, scope)
                    busy = busy or outcome == "busy"
            if not self._dirty:
                return
            await asyncio.sleep(0.02 if busy else 0)

    async def dispatch_workspace(self, workspace_sid: str, scope: Scope = EVERYTHING) -> str:
        """'idle' when nothing more can be done now, 'more' after a full batch, 'busy' when locked elsewhere."""
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _lock_key(workspace_sid)):
                    return "busy"
                workspace = await workspaces.get_workspace_by_sid(conn, sid=workspace_sid)
                if workspace is None:
                    return "idle"
                started = time.perf_counter()
                index = await self.index.get(conn, workspace_sid)
                ready = await self._ready_workers(conn, workspace, index)
                made, refused = await _Round(self, conn, workspace, index, ready, scope).run()
        except BaseException:
            self.ready.pop(workspace_sid, None)  # what it took in memory may not have committed
            raise
        if made and len(self.timings.rounds) < 100_000:
            self.timings.rounds.append((time.perf_counter() - started, made))
        if refused:
            self.stale.setdefault(workspace_sid, set()).update(refused)
        return "more" if made >= BATCH or refused else "idle"

    async def _ready_workers(self, conn: asyncpg.Connection, workspace: Workspace, index: RoutingIndex) -> ReadyWorkers:
        """The workspace's ready members: rebuilt when the index changed or it aged, else refreshed where stale
        or written since the previous round (by any instance: the other's reservations are seen at once)."""
        multi_task = workspace.multi_task_enabled
        ready = self.ready.get(workspace.sid)
        if (ready is None or ready.index is not index or ready.multi_task != multi_task
                or time.monotonic() - ready.built_at > READY_REFRESH_SECONDS):
            self.stale.pop(workspace.sid, None)
            _, mark = await store.changed_workers(conn, workspace_sid=workspace.sid, since=None)
            ready = ReadyWorkers(await store.ready_channels(conn, workspace_sid=workspace.sid, multi_task=multi_task),
                                 index, multi_task=multi_task, mark=mark)
            self.ready[workspace.sid] = ready
            return ready
        changed, ready.mark = await store.changed_workers(conn, workspace_sid=workspace.sid, since=ready.mark)
        stale = self.stale.pop(workspace.sid, set()) | changed
        if stale:
            ready.refresh(stale, await store.ready_channels(conn, workspace_sid=workspace.sid, multi_task=multi_task,
                                                            worker_sids=sorted(stale)))
        return ready


@dataclass
class _Pick:
    task: Task
    queue: TaskQueue
    worker_sid: str


class _Round:
    """One dispatch pass over a workspace, inside one transaction."""

    def __init__(self, dispatcher: Dispatcher, conn: asyncpg.Connection, workspace: Workspace,
                 index: RoutingIndex, ready: ReadyWorkers, scope: Scope) -> None:
        self.dispatcher = dispatcher
        self.conn = conn
        self.workspace = workspace
        self.index = index
        self.ready = ready
        self.scope = scope

    async def run(self) -> tuple[int, set[str]]:
        """The reservations made, and the workers the database refused a pick of (to be read again)."""
        queues = list(self.index.queues)
        if not self.scope.everything:
            # A narrow change: only the queues it touches are looked at.
            queues = sorted(affected_queues(self.index, queues=self.scope.queues, workers=self.scope.workers))
        ready = self.ready
        share = max(BATCH // max(len(queues), 1), PER_QUEUE_MIN)
        wanted = []
        for queue_sid in queues:
            slots = ready.slots(queue_sid, enough=share)
            if slots:
                wanted.append((self.index.queues[queue_sid], min(slots, share)))
        waiting = await store.waiting_tasks(self.conn, wanted) if wanted else []
        if not waiting:
            return 0, set()
        excluded = await store.not_to_offer(self.conn, [task.sid for _, task in waiting])
        picks: list[_Pick] = []
        timings = self.dispatcher.timings
        for queue, task in waiting:
            started = time.perf_counter()
            chosen = self._choose(queue, task, ready, excluded.get(task.sid, set()))
            for worker_sid in chosen:
                ready.take(worker_sid, task.task_channel_sid)
                picks.append(_Pick(task, queue, worker_sid))
            timings.add(time.perf_counter() - started)
        if not picks:
            return 0, set()
        made, refused = await self._commit(picks)
        timings.reservations += made
        return made, refused

    def _choose(self, queue: TaskQueue, task: Task, ready: ReadyWorkers, excluded: set[str]) -> list[str]:
        wanted = queue.max_reserved_workers
        channel = task.task_channel_sid
        if task.known_worker_sid is not None:
            worker = task.known_worker_sid
            eligible = (worker not in excluded and ready.free.get((worker, channel), 0) > 0
                        and queue.sid in self.index.member_of.get(worker, ()))
            if not eligible or not (task.target_expression or task.target_order_by):
                return [worker] if eligible else []
        if not (task.target_expression or task.target_order_by or task.known_worker_sid):
            chosen = []
            for worker in ready.candidates(queue.sid, channel):
                if worker not in excluded:
                    chosen.append(worker)
                    if len(chosen) >= wanted:
                        break
            return chosen
        candidates = []
        for worker in ready.candidates(queue.sid, channel):
            facts = self.index.workers.get(worker)
            if worker in excluded or facts is None:
                continue
            candidates.append(Candidate(worker_sid=worker, friendly_name=facts.friendly_name,
                                        attributes=facts.attributes, idle_since=ready.idle_since[(worker, channel)]))
        chosen_candidates = choose_workers(
            candidates, task_attributes=attributes_of(task.attributes), expression=task.target_expression,
            order_by=_order_keys(task.target_order_by) if task.target_order_by else (),
            known_worker=task.known_worker_sid, by_friendly_name=False, wanted=wanted)
        return [candidate.worker_sid for candidate in chosen_candidates]

    async def _commit(self, picks: list[_Pick]) -> tuple[int, set[str]]:
        conn, workspace, base = self.conn, self.workspace, self.dispatcher._base
        moving = sorted({p.worker_sid for p in picks if p.queue.reservation_activity_sid})
        if moving:
            await store.lock_workers(conn, moving)
        granted = await store.take_capacity(
            conn, worker_sids=[p.worker_sid for p in picks], channel_sids=[p.task.task_channel_sid for p in picks],
            queue_sids=[p.queue.sid for p in picks], multi_task=workspace.multi_task_enabled)
        kept = [picks[i] for i in granted]
        refused = {pick.worker_sid for pick in picks} - {pick.worker_sid for pick in kept}
        if not kept:
            return 0, refused
        now = datetime.now(UTC)
        offers, timeouts = [], {}
        for pick in kept:
            workflow = self.index.workflows.get(pick.task.workflow_sid or "")
            timeout = workflow.task_reservation_timeout if workflow else DEFAULT_RESERVATION_TIMEOUT
            timeouts[pick.task.sid] = timeout
            offers.append(store.NewReservation(
                sid=new_sid("WR"), task_sid=pick.task.sid, worker_sid=pick.worker_sid, task_queue_sid=pick.queue.sid,
                task_channel_sid=pick.task.task_channel_sid, expires_at=now + timedelta(seconds=timeout)))
        created = await store.insert_reservations(conn, account_sid=workspace.account_sid, workspace_sid=workspace.sid,
                                                  offers=offers)
        await store.mark_reserved(conn, sorted({p.task.sid for p in kept}))
        people = await store.workers_by_sid(conn, sorted({p.worker_sid for p in kept}))
        occurrences, callbacks = [], []
        for pick, offer in zip(kept, offers, strict=True):
            task, worker = pick.task, people[pick.worker_sid]
            reservation = Reservation(
                sid=offer.sid, account_sid=workspace.account_sid, workspace_sid=workspace.sid, task_sid=task.sid,
                worker_sid=worker.sid, worker_name=worker.friendly_name, task_queue_sid=pick.queue.sid,
                task_channel_sid=offer.task_channel_sid, reservation_status="pending", holds_capacity=True,
                expires_at=offer.expires_at, date_created=created, date_updated=created)
            occurrences.append(Occurrence(
                event_type="reservation.created", resource_type="reservation", resource_sid=offer.sid,
                description=f"Reservation {offer.sid} created for Worker {worker.friendly_name}",
                resource=render.reservation(reservation, base),
                # The timeout lets an agent's screen count down to it (as Twilio's worker SDK shows `timeout`).
                fields=[("ReservationSid", offer.sid), ("ReservationTimeout", str(timeouts[task.sid])), *task_fields(task),
                        *worker_fields(worker)],
                task_sid=task.sid, worker_sid=worker.sid, reservation_sid=offer.sid, task_queue_sid=pick.queue.sid,
                workflow_sid=task.workflow_sid, task_channel=task.task_channel_unique_name))
            workflow = self.index.workflows.get(task.workflow_sid or "")
            if workflow is not None and workflow.assignment_callback_url:
                callbacks.append((COMMANDS, assignment_callback_message(
                    workspace, url=workflow.assignment_callback_url,
                    fallback_url=workflow.fallback_assignment_callback_url, task_sid=task.sid,
                    reservation_sid=offer.sid, fields=assignment_callback_fields(
                        workspace, task, worker, reservation_sid=offer.sid, task_queue_sid=pick.queue.sid))))
        await record_many(conn, workspace, occurrences, callbacks)
        for pick in kept:
            if pick.queue.reservation_activity_sid:
                await self._move_to_reservation_activity(pick)
        return len(kept), refused

    async def _move_to_reservation_activity(self, pick: _Pick) -> None:
        from services.router.handlers.workers import move_worker_to

        activity = await activities.get_activity(self.conn, workspace_sid=self.workspace.sid,
                                                 sid=pick.queue.reservation_activity_sid or "")
        if activity is not None:
            await move_worker_to(self.conn, self.workspace, pick.worker_sid, activity, self.dispatcher._base)
