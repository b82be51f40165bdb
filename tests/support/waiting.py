"""Wait for outcomes with a deadline, never a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], *, until: Callable[[T], bool] = bool, timeout: float = 20.0, what: str = ""
) -> T:
    """Call `probe` until `until(result)` holds; fail with the last result when the deadline passes."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        result = await probe()
        if until(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting {timeout}s for {what or probe}: last result {result!r}")
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.25)


async def moment_when(condition: Callable[[], bool], *, timeout: float, poll: float = 0.25) -> float | None:
    """When `condition` first held (time.time()), or None if it did not within `timeout`: for a caller that
    measures how long something took, and reports rather than fails when it took too long."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return time.time()
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(poll)
