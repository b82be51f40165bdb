"""When the infrastructure fails, not the work: telling an outage of PostgreSQL or RabbitMQ from a handler's
own error, waiting it out, and saying so in a few log lines rather than a traceback per attempt.

A message that meets an outage is no poison: counting its attempts toward the delivery limit would park
accepted messages for nothing (RabbitMQ counts every requeue), so the consume wrapper keeps it and tries
again in place, and the background loops back off the same way.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

import asyncpg
from aio_pika.exceptions import AMQPConnectionError, ChannelClosed, ConnectionClosed

# Failures of the database or the broker themselves, never of what is asked of them. Serialization failures
# and deadlocks are a race that a fresh attempt resolves: never the message's fault either.
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    AMQPConnectionError,
    ChannelClosed,
    ConnectionClosed,
)


def is_infrastructure_failure(error: BaseException) -> bool:
    """Whether `error`, or what caused it, is the database or the broker failing."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, INFRASTRUCTURE_ERRORS):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "clos" in str(current):
            return True  # the pool is closing or the connection was closed under it (other ones are bugs)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class Outage:
    """One dependency's outage as one place (a queue, a loop) lives through it: a warning when it begins,
    one every `every` seconds while it lasts, and one line when it is over; and the backoff between tries."""

    # What the lines say; `Stuck` tells of another trouble in the same few lines.
    BEGINS = "infrastructure unavailable, {where} waits and retries: {error}"
    LASTS = "infrastructure still unavailable after {seconds:.0f} s, {where} waits: {error}"
    ENDS = "infrastructure back after {seconds:.1f} s, {where} resumes"
    LEVEL = logging.WARNING
    TRACEBACK = False  # whether the first line carries the error's traceback

    def __init__(self, log: logging.Logger, where: str, *, every: float = 10.0, first_delay: float = 0.05,
                 max_delay: float = 5.0) -> None:
        self._log = log
        self._where = where
        self._every = every
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._since: float | None = None
        self._last_said = 0.0
        self._delay = first_delay

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        if self._since is None:
            self._since = self._last_said = now
            self._say(self.BEGINS, error=error, traceback=self.TRACEBACK)
        elif now - self._last_said >= self._every:
            self._last_said = now
            self._say(self.LASTS, error=error, seconds=now - self._since)

    def recovered(self) -> None:
        if self._since is not None:
            self._say(self.ENDS, seconds=time.monotonic() - self._since)
        self._since = None
        self._delay = self._first_delay

    def _say(self, line: str, *, error: BaseException | None = None, seconds: float = 0.0,
             traceback: bool = False) -> None:
        text = line.format(where=self._where, seconds=seconds,
                           error=f"{type(error).__name__}: {error}" if error is not None else "")
        self._log.log(self.LEVEL, "%s", text, exc_info=error if traceback else None, extra={"where": self._where})

    async def pause(self) -> None:
        """Wait before the next try: doubling from `first_delay` to `max_delay`, with jitter so that replicas
        coming back do not knock together."""
        await asyncio.sleep(self._delay * random.uniform(0.5, 1.0))
        self._delay = min(self._max_delay, self._delay * 2)


class Stuck(Outage):
    """Messages their handler keeps failing on where nothing would ever park them (a queue without a delivery
    limit): redelivered at once they would fail again at once, in a hot loop. They are kept and retried in
    place with backoff instead; the first failure is logged with its traceback, then a line every `every`
    seconds while any is stuck, and one when they go through."""

    BEGINS = "handler failed, {where} keeps the message and retries it with backoff: {error}"
    LASTS = "handler still failing after {seconds:.0f} s, {where} keeps retrying: {error}"
    ENDS = "handler succeeded after {seconds:.1f} s, {where} moves on"
    LEVEL = logging.ERROR
    TRACEBACK = True

    def __init__(self, log: logging.Logger, where: str) -> None:
        # A bug is fixed by a deployment, not in seconds: up to a minute between tries is soon enough.
        super().__init__(log, where, max_delay=60.0)
