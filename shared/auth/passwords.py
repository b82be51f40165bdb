"""Agents' passwords: argon2 hashes, made and checked in a small pool of threads of their own.

A hash costs tens of milliseconds of CPU by design. On the event loop it would stall every other request;
in the default executor, a burst of sign-ins would take every core from the loop and queue behind it
whatever else uses `asyncio.to_thread`. A pool of `PARLEY_PASSWORD_HASH_THREADS` bounds both: sign-ins
wait for each other, not the rest of the service for them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1024

# argon2-cffi's defaults (argon2id, RFC 9106 low-memory profile).
_HASHER = PasswordHasher()
# Compared against when no agent has the email, so a miss costs what a wrong password costs.
_ABSENT = _HASHER.hash("no agent has this email")


def _matches(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _ABSENT, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class Passwords:
    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="password-hash")
        self._turns = asyncio.Semaphore(threads)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """One of the pool's threads, held across a sign-in's look at its guess counts, its check and the count
        of its failure, so that no more sign-ins are judged at once than can be hashed at once."""
        async with self._turns:
            yield

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._pool, _HASHER.hash, password)

    async def matches(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` is the one hashed; with no hash (no such agent) it costs the same and is False."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, _matches, password_hash, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
