"""A background loop's wake-up call: LISTEN on PostgreSQL channels over a connection of its own, re-established
after the database restarts or the connection drops.

NOTIFY is lost while nobody listens, so a wake-up that had to listen again says so: the loop then reads
everything it may have missed, as at start. Without this a restart leaves the loop on its poll interval for
good (every message then waits up to a poll interval instead of milliseconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import asyncpg

from shared.outages import Outage, is_infrastructure_failure

log = logging.getLogger(__name__)

# (channel, payload) of each notification, besides the wake-up itself.
OnNotify = Callable[[str, str], None]


class Wakeup:
    def __init__(self, pool: asyncpg.Pool, channels: Sequence[str], *, where: str,
                 on_notify: OnNotify | None = None, on_relisten: Callable[[], None] | None = None) -> None:
        self._pool = pool
        self._channels = list(channels)
        self._on_notify = on_notify
        self._on_relisten = on_relisten  # what the owner forgets when notifications may have been missed
        self._event = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._outage = Outage(log, f"listening for {where}")

    async def start(self) -> None:
        """Listen now; a database that is down at start is a start-up failure, as elsewhere."""
        self._conn = await self._listen()

    async def stop(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                for channel in self._channels:
                    await conn.remove_listener(channel, self._notified)
            with contextlib.suppress(Exception):
                await self._pool.release(conn)

    def set(self) -> None:
        """Wake the loop from inside the process (work arrived another way)."""
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, timeout: float) -> bool:
        """Until a notification, `set()`, or `timeout`; True when woken early. Listening again after the
        connection was lost wakes at once too: whatever was notified meanwhile is unknown."""
        if not self._listening():
            return await self._listen_again(timeout)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout=timeout)
            return True
        return False

    def _listening(self) -> bool:
        if self._conn is None:
            return False
        try:
            return not self._conn.is_closed()
        except asyncpg.InterfaceError:
            return False  # the pool took the connection back when it was lost: its proxy answers nothing more

    async def _listen(self) -> asyncpg.Connection:
        conn = await self._pool.acquire()
        try:
            for channel in self._channels:
                await conn.add_listener(channel, self._notified)
            # A lost connection wakes the loop at once, so it listens again without waiting out its poll.
            conn.add_termination_listener(self._lost)
        except BaseException:
            await self._pool.release(conn)
            raise
        return conn

    async def _listen_again(self, timeout: float) -> bool:
        """Listen again, trying with backoff for up to `timeout`; True once listening."""
        if self._conn is not None:
            lost, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                await self._pool.release(lost)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                self._conn = await self._listen()
                break
            except Exception as error:
                if not is_infrastructure_failure(error):
                    raise
                self._outage.failed(error)
                if asyncio.get_running_loop().time() >= deadline:
                    return False
                await self._outage.pause()
        self._outage.recovered()
        if self._on_relisten is not None:
            self._on_relisten()
        return True

    def _lost(self, _conn: object) -> None:
        self._event.set()

    def _notified(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        if self._on_notify is not None:
            self._on_notify(channel, payload)
        self._event.set()
