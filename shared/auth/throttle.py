"""Throttled guessing: failed agent sign-ins and HTTP Basic failures, limited per client address and per
(email or SID, client address), so that guessing is slow and nobody is locked out from elsewhere.

Counts live in PostgreSQL (the accounts schema), so a guesser spreading over replicas meets one count.
A window opens at a key's first attempt and lasts `window`; within it, an address may fail
`per_address` times and a credential from one address `per_credential` times; beyond that the address
(or the pair) gets 429 (Twilio's 20429) with `Retry-After` until the window ends. Correct credentials
from anywhere else are never refused: an attacker hammering an agent's email from address A fills
A's counts, not the agent's on address B.

The client address is the connection's peer as uvicorn reports it: behind a reverse proxy, uvicorn's
proxy headers decide it (`FORWARDED_ALLOW_IPS` / `--forwarded-allow-ips` must name the proxy, else
every client shares the proxy's address and its count). IPv6 clients count by their /64, which one
host usually holds whole.

Every attempt reads the counts first (refused when over), and a failure is counted after its check.
Sign-ins (passwords: the guessable secret) run this inside a password-hashing turn (shared/auth/passwords.py),
so each replica evaluates at most `PARLEY_PASSWORD_HASH_THREADS` at once, every one against fresh counts:
a burst of parallel guesses cannot outrun the count by more than that per replica, and an office signing in
at shift start only queues, its correct sign-ins counting nothing. Basic credentials (an auth token or a
key secret: 128 bits or more, not a guessable secret) are checked on every request, so there a replica
trusts its last look that a client is not throttled for `cache_seconds`, and a refusal until it ends.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import asyncpg
from fastapi import Request
from fastapi.requests import HTTPConnection

from shared.errors import TwilioError
from shared.retention import Pruning

T = TypeVar("T")

SIGN_IN, BASIC = "sign-in", "basic"
WHOLE_ADDRESS = ""  # the credential of the row that counts an address's attempts at every credential
MAX_CREDENTIAL_LENGTH = 320
MAX_CACHED = 10_000

OLD_GUESS_COUNTS = "SELECT ctid FROM guess_counts WHERE window_started < now() - $1::interval LIMIT $2"


@dataclass(frozen=True)
class GuessLimits:
    per_credential: int
    per_address: int
    window: timedelta

    def limit_of(self, credential: str) -> int:
        return self.per_address if credential == WHOLE_ADDRESS else self.per_credential


@dataclass(frozen=True)
class Count:
    credential: str
    attempts: int
    seconds_left: float


def too_many_guesses(seconds_left: float) -> TwilioError:
    retry_after = max(1, math.ceil(seconds_left))
    return TwilioError(429, 20429, f"Too many failed attempts from this address; try again in {retry_after} s",
                       headers={"Retry-After": str(retry_after)})


def client_address(connection: HTTPConnection) -> str:
    """Whom the counts are kept for: the peer address, IPv6 by its /64 (of a request or a WebSocket)."""
    host = connection.client.host if connection.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _keys(credential: str) -> list[str]:
    # The whole-address row first: every writer locks rows in this order, so two never deadlock.
    return [WHOLE_ADDRESS, credential.strip().lower()[:MAX_CREDENTIAL_LENGTH]]


def _over(limits: GuessLimits, counts: list[Count], *, counting_this_one: bool) -> Count | None:
    """The count that refuses an attempt, if any (the one that lasts longest)."""
    allowed = 1 if counting_this_one else 0  # a failure just counted may be the limit-th
    over = [count for count in counts if count.attempts - allowed >= limits.limit_of(count.credential)]
    return max(over, key=lambda count: count.seconds_left, default=None)


async def count_attempt(pool: asyncpg.Pool, *, scope: str, address: str, keys: list[str],
                        window: timedelta) -> list[Count]:
    """One more attempt for each key; a key whose window has ended starts a new one."""
    rows = await pool.fetch(
        "INSERT INTO guess_counts AS g (scope, address, credential, window_started, attempts) "
        "SELECT $1, $2, key, now(), 1 FROM unnest($3::text[]) WITH ORDINALITY AS k(key, n) ORDER BY n "
        "ON CONFLICT (scope, address, credential) DO UPDATE SET "
        " window_started = CASE WHEN g.window_started <= now() - $4::interval THEN now() ELSE g.window_started END,"
        " attempts = CASE WHEN g.window_started <= now() - $4::interval THEN 1 ELSE g.attempts + 1 END "
        "RETURNING credential, attempts, extract(epoch FROM g.window_started + $4::interval - now()) AS seconds_left",
        scope, address, keys, window,
    )
    return [Count(row["credential"], row["attempts"], float(row["seconds_left"])) for row in rows]


async def list_counts(pool: asyncpg.Pool, *, scope: str, address: str, keys: list[str],
                      window: timedelta) -> list[Count]:
    rows = await pool.fetch(
        "SELECT credential, attempts, extract(epoch FROM window_started + $4::interval - now()) AS seconds_left "
        "FROM guess_counts WHERE scope = $1 AND address = $2 AND credential = ANY($3::text[]) "
        "AND window_started > now() - $4::interval",
        scope, address, keys, window,
    )
    return [Count(row["credential"], row["attempts"], float(row["seconds_left"])) for row in rows]


class GuessThrottle:
    def __init__(self, pool: asyncpg.Pool, limits: GuessLimits, *, cache_seconds: float) -> None:
        self.pool = pool
        self.limits = limits
        self._cache_seconds = cache_seconds
        # (credential, address) → (monotonic time until which the verdict holds, whether it is throttled)
        self._verdicts: dict[tuple[str, str], tuple[float, bool]] = {}

    def pruning(self) -> Pruning:
        return Pruning("guess counts", OLD_GUESS_COUNTS, self.limits.window)

    async def attempt(self, request: Request, *, scope: str, credential: str,
                      check: Callable[[], Awaitable[T | None]]) -> T | None:
        """`check()` (what the credentials open, or None) unless this address is throttled for `credential`;
        raises 429 then, and counts a None."""
        address, keys = client_address(request), _keys(credential)
        if (refusal := await self._verdict(scope, address, keys)) is not None:
            raise refusal
        opened = await check()
        if opened is None:
            counts = await count_attempt(self.pool, scope=scope, address=address, keys=keys, window=self.limits.window)
            if scope == BASIC:
                self._remember(keys[1], address, _over(self.limits, counts, counting_this_one=False))
            if (over := _over(self.limits, counts, counting_this_one=True)) is not None:
                raise too_many_guesses(over.seconds_left)  # over before this one: stale counts let it through
        return opened

    async def _verdict(self, scope: str, address: str, keys: list[str]) -> TwilioError | None:
        now = time.monotonic()
        cached = self._verdicts.get((keys[1], address)) if scope == BASIC else None
        if cached is not None and now < cached[0]:
            return too_many_guesses(cached[0] - now) if cached[1] else None
        counts = await list_counts(self.pool, scope=scope, address=address, keys=keys, window=self.limits.window)
        over = _over(self.limits, counts, counting_this_one=False)
        if scope == BASIC:
            self._remember(keys[1], address, over)
        return too_many_guesses(over.seconds_left) if over is not None else None

    def _remember(self, credential: str, address: str, over: Count | None) -> None:
        """A refusal holds until its window ends (a window only ends); a clean bill for `cache_seconds`."""
        until = time.monotonic() + (over.seconds_left if over is not None else self._cache_seconds)
        if len(self._verdicts) > MAX_CACHED:
            self._verdicts.clear()
        self._verdicts[(credential, address)] = (until, over is not None)
