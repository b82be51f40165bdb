"""The dispatcher's in-memory routing index: what it decides from, without a query per task.

Two parts. `RoutingIndex` (per workspace) caches what changes rarely: queues, who is a member of
which queue, worker names and parsed attributes, workflows. It is rebuilt at start, and whenever
any router instance commits a change to those tables (a trigger NOTIFYs every instance), and at
least every REFRESH_SECONDS as a safety net. `ReadyWorkers` is rebuilt from one query per dispatch
round: per (queue, task channel), the ready members in longest-idle order with their free capacity.
PostgreSQL stays the arbiter: capacity and membership are checked again when capacity is taken.
"""

from __future__ import annotations

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

    def invalidate(self) -> None:
        self._indexes.clear()

    async def get(self, conn: Connection, workspace_sid: str) -> RoutingIndex:
        found = self._indexes.get(workspace_sid)
        if found is None or time.monotonic() - found.built_at > REFRESH_SECONDS:
            found = await build_index(conn, workspace_sid)
            self._indexes[workspace_sid] = found
        return found


class ReadyWorkers:
    """Ready members per (queue, task channel), longest idle first, with the capacity each channel has left."""

    def __init__(self, channels: list[ReadyChannel], member_of: dict[str, list[str]], *, multi_task: bool) -> None:
        self.multi_task = multi_task
        self.free: dict[tuple[str, str], int] = {}
        self.idle_since: dict[tuple[str, str], datetime] = {}
        self._channels_of: dict[str, list[str]] = {}
        lines: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
        for ready in channels:
            self.free[(ready.worker_sid, ready.task_channel_sid)] = ready.free
            self.idle_since[(ready.worker_sid, ready.task_channel_sid)] = ready.idle_since
            self._channels_of.setdefault(ready.worker_sid, []).append(ready.task_channel_sid)
            for queue_sid in member_of.get(ready.worker_sid, ()):
                lines.setdefault((queue_sid, ready.task_channel_sid), []).append((ready.idle_since, ready.worker_sid))
        self._lines: dict[tuple[str, str], list[str]] = {}
        for key, entries in lines.items():
            entries.sort()
            self._lines[key] = [worker for _, worker in entries]
        self._heads: dict[tuple[str, str], int] = {}

    def slots(self) -> dict[str, int]:
        """Per queue, an upper bound of the tasks its ready members can take now (any channel)."""
        found: dict[str, int] = {}
        for (queue, channel), line in self._lines.items():
            found[queue] = found.get(queue, 0) + sum(self.free.get((worker, channel), 0) for worker in line)
        return found

    def candidates(self, queue_sid: str, channel_sid: str) -> Iterator[str]:
        """Members with capacity left, longest idle first; full ones at the front are dropped for good."""
        key = (queue_sid, channel_sid)
        line = self._lines.get(key, [])
        head = self._heads.get(key, 0)
        while head < len(line) and self.free.get((line[head], channel_sid), 0) <= 0:
            head += 1
        self._heads[key] = head
        for worker in line[head:]:
            if self.free.get((worker, channel_sid), 0) > 0:
                yield worker

    def take(self, worker_sid: str, channel_sid: str) -> None:
        if self.multi_task:
            self.free[(worker_sid, channel_sid)] -= 1
            return
        for channel in self._channels_of.get(worker_sid, ()):  # one task at a time, across channels
            self.free[(worker_sid, channel)] = 0

    def give_back(self, worker_sid: str, channel_sid: str) -> None:
        """The database refused the pick (capacity or membership changed): drop the worker for this round."""
        for channel in self._channels_of.get(worker_sid, ()):
            self.free[(worker_sid, channel)] = 0
