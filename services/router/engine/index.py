"""The dispatcher's in-memory routing index: what it decides from, without a query per task.

Two parts. `RoutingIndex` (per workspace) caches what changes rarely: queues, who is a member of
which queue, worker names and parsed attributes, workflows. It is rebuilt at start, and whenever
any router instance commits a change to those tables (a trigger NOTIFYs every instance), and at
least every REFRESH_SECONDS as a safety net. `ReadyWorkers` is rebuilt from one query per dispatch
round: per (queue, task channel), the ready members in longest-idle order with their free capacity.
PostgreSQL stays the arbiter: capacity and membership are checked again when capacity is taken.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.router.domain.models import TaskQueue, Workflow, attributes_of
from services.router.store import task_queues
from services.router.store.base import Connection
from services.router.store.dispatch import ReadyChannel
from services.router.store.workflows import COLUMNS as WORKFLOW_COLUMNS

REFRESH_SECONDS = 30.0
READY_REFRESH_SECONDS = 60.0
INDEX_CHANNEL_SQL = "'router_index_' || md5(current_schema())"


@dataclass(frozen=True)
class WorkerFacts:
    friendly_name: str
    attributes: dict[str, Any]


@dataclass
class RoutingIndex:
    queues: dict[str, TaskQueue]
    member_of: dict[str, list[str]]  # worker → queues
    members: dict[str, list[str]]  # queue → workers
    workers: dict[str, WorkerFacts]
    workflows: dict[str, Workflow]
    built_at: float = field(default_factory=time.monotonic)


async def build_index(conn: Connection, workspace_sid: str) -> RoutingIndex:
    queues = {q.sid: q for q in await task_queues.all_task_queues(conn, workspace_sid=workspace_sid)}
    member_of: dict[str, list[str]] = {}
    members: dict[str, list[str]] = {}
    for row in await conn.fetch("SELECT m.worker_sid, m.task_queue_sid FROM queue_members m "
                                "JOIN task_queues q ON q.sid = m.task_queue_sid WHERE q.workspace_sid = $1",
                                workspace_sid):
        member_of.setdefault(row["worker_sid"], []).append(row["task_queue_sid"])
        members.setdefault(row["task_queue_sid"], []).append(row["worker_sid"])
    worker_rows = await conn.fetch("SELECT sid, friendly_name, attributes FROM workers WHERE workspace_sid = $1",
                                   workspace_sid)
    workers = {row["sid"]: WorkerFacts(row["friendly_name"], attributes_of(row["attributes"])) for row in worker_rows}
    flows = await conn.fetch(f"SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE workspace_sid = $1", workspace_sid)
    return RoutingIndex(queues=queues, member_of=member_of, members=members, workers=workers,
                        workflows={row["sid"]: Workflow(**dict(row)) for row in flows})


def affected_queues(index: RoutingIndex, *, queues: set[str], workers: set[str]) -> set[str]:
    """The queues a change touches: those named, and those the named workers are members of."""
    found = {queue for queue in queues if queue in index.queues}
    for worker in workers:
        found.update(index.member_of.get(worker, ()))
    return found


class IndexCache:
    """One RoutingIndex per workspace; `invalidate` drops them all (called on the trigger's NOTIFY)."""

    def __init__(self) -> None:
        self._indexes: dict[str, RoutingIndex] = {}
        self._generation = 0

    def invalidate(self) -> None:
        self._indexes.clear()
        self._generation += 1

    async def get(self, conn: Connection, workspace_sid: str) -> RoutingIndex:
        found = self._indexes.get(workspace_sid)
        if found is None or time.monotonic() - found.built_at > REFRESH_SECONDS:
            generation = self._generation
            found = await build_index(conn, workspace_sid)
            # A change notified while it was being read may be missing from it: good for this round only.
            if generation == self._generation:
                self._indexes[workspace_sid] = found
        return found


class ReadyWorkers:
    """Ready members per (queue, task channel), longest idle first, with the capacity each channel has left.

    Kept across rounds: a round's own reservations are taken here as they are made; a worker whose
    channels were written since the previous round (`mark`: by any instance or handler), or that a
    wake-up named, or whose pick the database refused, is read again before the next round (`refresh`);
    the whole of it is rebuilt when the index changes and, as a safety net, every READY_REFRESH_SECONDS.
    """

    def __init__(self, channels: list[ReadyChannel], index: RoutingIndex, *, multi_task: bool, mark: int) -> None:
        self.index = index
        self.multi_task = multi_task
        self.mark = mark  # store.changed_workers: what this view has seen
        self.built_at = time.monotonic()
        self.free: dict[tuple[str, str], int] = {}
        self.idle_since: dict[tuple[str, str], datetime] = {}
        self._channels_of: dict[str, list[str]] = {}
        self._lines: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
        self._heads: dict[tuple[str, str], int] = {}
        for ready in channels:
            self._add(ready, sort=False)
        for line in self._lines.values():
            line.sort()

    def _add(self, ready: ReadyChannel, *, sort: bool) -> None:
        key = (ready.worker_sid, ready.task_channel_sid)
        self.free[key] = ready.free
        self.idle_since[key] = ready.idle_since
        self._channels_of.setdefault(ready.worker_sid, []).append(ready.task_channel_sid)
        for queue_sid in self.index.member_of.get(ready.worker_sid, ()):
            line_key = (queue_sid, ready.task_channel_sid)
            line = self._lines.setdefault(line_key, [])
            if sort:
                bisect.insort(line, (ready.idle_since, ready.worker_sid))
                self._heads.pop(line_key, None)  # it may sit before the head
            else:
                line.append((ready.idle_since, ready.worker_sid))

    def refresh(self, worker_sids: set[str], channels: list[ReadyChannel]) -> None:
        """Replace what is known of these workers by their channels as read now (absent: not ready)."""
        for worker in worker_sids:
            for channel in self._channels_of.pop(worker, ()):
                entry = (self.idle_since.pop((worker, channel)), worker)
                self.free.pop((worker, channel), None)
                for queue_sid in self.index.member_of.get(worker, ()):
                    line = self._lines.get((queue_sid, channel), [])
                    position = bisect.bisect_left(line, entry)
                    if position < len(line) and line[position] == entry:
                        del line[position]
                        self._heads.pop((queue_sid, channel), None)
        for ready in channels:
            self._add(ready, sort=True)

    def slots(self, queue_sid: str, *, enough: int) -> int:
        """How many tasks the queue's ready members can take now (any channel), counting up to `enough`."""
        found = 0
        for (queue, channel), _ in self._lines.items():
            if queue != queue_sid:
                continue
            for worker in self.candidates(queue, channel):
                found += self.free[(worker, channel)]
                if found >= enough:
                    return found
        return found

    def candidates(self, queue_sid: str, channel_sid: str) -> Iterator[str]:
        """Members with capacity left, longest idle first; full ones at the front are skipped for good."""
        key = (queue_sid, channel_sid)
        line = self._lines.get(key, [])
        head = self._heads.get(key, 0)
        while head < len(line) and self.free.get((line[head][1], channel_sid), 0) <= 0:
            head += 1
        self._heads[key] = head
        for index in range(head, len(line)):
            worker = line[index][1]
            if self.free.get((worker, channel_sid), 0) > 0:
                yield worker

    def take(self, worker_sid: str, channel_sid: str) -> None:
        if self.multi_task:
            self.free[(worker_sid, channel_sid)] -= 1
            return
        for channel in self._channels_of.get(worker_sid, ()):  # one task at a time, across channels
            self.free[(worker_sid, channel)] = 0
