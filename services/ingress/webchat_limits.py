"""How many chats a browser may start without credentials: widget starts, per client address and replica.

A sliding window per client address (the request's peer, or the first `X-Forwarded-For` hop when
`PARLEY_TRUST_FORWARDED_FOR` says a proxy sets it): beyond `PARLEY_WEBCHAT_STARTS_PER_MINUTE` starts in
60 s (0: no limit), 429 with Twilio's 20429. Kept in memory: a limit against floods, not an accounting.
"""

from __future__ import annotations

import time
from collections import deque

from fastapi import Request

from shared.errors import TwilioError

WINDOW_SECONDS = 60.0
MAX_TRACKED_CLIENTS = 100_000


def too_many_starts() -> TwilioError:
    return TwilioError(429, 20429, "Too many chats started from this address; try again in a minute")


class StartLimiter:
    def __init__(self, per_minute: int, *, trust_forwarded_for: bool = False) -> None:
        self._limit = per_minute
        self._trust_forwarded_for = trust_forwarded_for
        self._starts: dict[str, deque[float]] = {}

    def client_of(self, request: Request) -> str:
        forwarded = request.headers.get("x-forwarded-for", "")
        if self._trust_forwarded_for and forwarded.strip():
            return forwarded.split(",")[0].strip()
        return request.client.host if request.client else "unknown"

    def check(self, client: str, now: float | None = None) -> None:
        """Counts a start for `client`, or raises 429 when it has had its share of the last minute."""
        if self._limit <= 0:
            return
        now = time.monotonic() if now is None else now
        starts = self._starts.setdefault(client, deque())
        while starts and starts[0] <= now - WINDOW_SECONDS:
            starts.popleft()
        if len(starts) >= self._limit:
            raise too_many_starts()
        starts.append(now)
        if len(self._starts) > MAX_TRACKED_CLIENTS:  # forget the quiet ones rather than grow without end
            for quiet in [key for key, times in self._starts.items() if not times or times[-1] <= now - WINDOW_SECONDS]:
                del self._starts[quiet]
