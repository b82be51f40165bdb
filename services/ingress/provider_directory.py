"""Provider lookups for the inbound hot path, cached briefly since every callback asks."""

from __future__ import annotations

import time

import asyncpg

from services.ingress import store
from services.ingress.domain.providers import Provider
from shared.crypto import SecretBox


class ProviderDirectory:
    """Changes made through this process are seen at once (`forget`); other replicas' within the TTL."""

    _TTL_SECONDS = 5.0
    _MAX_ENTRIES = 10_000

    def __init__(self, pool: asyncpg.Pool, box: SecretBox) -> None:
        self._pool = pool
        self.box = box
        self._cache: dict[str, tuple[float, Provider | None]] = {}

    async def get(self, sid: str) -> Provider | None:
        now = time.monotonic()
        cached = self._cache.get(sid)
        if cached and now - cached[0] < self._TTL_SECONDS:
            return cached[1]
        # Unknown SIDs are cached too, so a flood of bad callbacks does not become a flood of queries.
        found = await store.get_provider(self._pool, sid=sid, box=self.box)
        if len(self._cache) >= self._MAX_ENTRIES:
            self._cache.clear()
        self._cache[sid] = (now, found)
        return found

    def forget(self, sid: str) -> None:
        self._cache.pop(sid, None)
