"""Durable timers: reservation timeouts, task TTLs and routing-step deadlines, read from due-time columns.

Every instance polls; FOR UPDATE SKIP LOCKED hands each due row to exactly one of them, and a
timer whose transaction dies with its instance is simply due again for the next poll.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import asyncpg

from services.router.handlers import reservations as offers
from services.router.handlers.routing import leave_step
from services.router.handlers.tasks import expire_task
from services.router.store import reservations, tasks, workspaces

log = logging.getLogger(__name__)

BATCH = 100


class Timers:
    def __init__(self, pool: asyncpg.Pool, *, base: str, poll_interval: float) -> None:
        self._pool = pool
        self._base = base
        self._poll_interval = poll_interval

    async def run(self) -> None:
        while True:
            fired = await self.fire_due()
            if fired < BATCH:
                await asyncio.sleep(min(self._poll_interval, 0.25))

    async def fire_due(self) -> int:
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn:
            due_reservations = await reservations.due_reservations(conn, now=now, limit=BATCH)
            due_tasks = await tasks.due_task_sids(conn, now=now, limit=BATCH)
        for workspace_sid, sid in due_reservations:
            await self._reservation(workspace_sid, sid)
        for workspace_sid, sid, why in due_tasks:
            await self._task(workspace_sid, sid, why)
        return len(due_reservations) + len(due_tasks)

    async def _reservation(self, workspace_sid: str, sid: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if not await reservations.lock_pending_reservation(conn, sid=sid):
                return
            workspace = await workspaces.get_workspace_by_sid(conn, sid=workspace_sid)
            reservation = await reservations.get_reservation(conn, workspace_sid=workspace_sid, sid=sid)
            if workspace is None or reservation is None:
                return
            await offers.time_out(conn, workspace, reservation, base=self._base)

    async def _task(self, workspace_sid: str, sid: str, why: str) -> None:
        statuses = ["pending", "reserved"] if why == "expired" else ["pending"]
        async with self._pool.acquire() as conn, conn.transaction():
            if not await tasks.lock_task_if(conn, sid=sid, statuses=statuses):
                return
            workspace = await workspaces.get_workspace_by_sid(conn, sid=workspace_sid)
            task = await tasks.get_task(conn, workspace_sid=workspace_sid, sid=sid)
            if workspace is None or task is None:
                return
            now = datetime.now(UTC)
            if why == "expired" and task.expires_at <= now:
                await expire_task(conn, workspace, task, base=self._base)
            elif why == "step" and task.step_deadline is not None and task.step_deadline <= now:
                await leave_step(conn, workspace, task, why="timeout", base=self._base)
