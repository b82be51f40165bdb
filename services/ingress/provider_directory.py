"""Provider lookups for the inbound hot path: cached briefly since every callback asks, and remembered beyond
that for when the database cannot be reached. The broker, not the database, makes an inbound message durable,
so a database outage must not stop ingress from checking signatures and taking messages in."""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg

from services.ingress import store
from services.ingress.domain.providers import Provider
from shared.crypto import SecretBox
from shared.errors import TwilioError, service_unavailable
from shared.outages import Outage, is_infrastructure_failure

log = logging.getLogger(__name__)

# A lookup waits this long for the database (a pool whose connections all hang, a host that drops packets) before
# the last record read is used instead: the provider is waiting for its answer.
LOOKUP_TIMEOUT_SECONDS = 2.0
# After the database was found unreachable, the last records read are used without asking it again for this long:
# one failed connection a second, not one per callback.
RETRY_SECONDS = 1.0


def provider_unknown_now(sid: str) -> TwilioError:
    # Not 404: the provider may well exist, and a provider gives up on a 404 but retries a 503.
    return service_unavailable(f"Provider {sid} cannot be looked up now (its database is unreachable); retry later")


class ProviderDirectory:
    """Changes made through this process are seen at once (`forget`); other replicas' within the TTL while the
    database answers. While it does not, a provider is checked against the last record of it read, however old;
    a SID with no record read (or last read as unknown) is answered 503, so that the provider retries."""

    _MAX_UNKNOWN = 10_000

    def __init__(self, pool: asyncpg.Pool, box: SecretBox, *, ttl_seconds: float = 5.0) -> None:
        self._pool = pool
        self.box = box
        self._ttl = ttl_seconds
        self._known: dict[str, tuple[float, Provider]] = {}  # kept past the TTL: the last record read
        # Unknown SIDs are remembered too, so a flood of bad callbacks does not become a flood of queries; apart
        # from the known ones, so that such a flood never pushes out a record needed in an outage.
        self._unknown: dict[str, float] = {}
        self._reading: dict[str, asyncio.Task[Provider | None]] = {}
        self._unreachable_until = 0.0
        self._outage = Outage(log, "the provider lookup of inbound callbacks")

    async def get(self, sid: str) -> Provider | None:
        """The provider, None when there is none; raises a 503 error when the database can't be asked and no
        record of `sid` was read before."""
        now = time.monotonic()
        known = self._known.get(sid)
        if known is not None and now - known[0] < self._ttl:
            return known[1]
        unknown_since = self._unknown.get(sid)
        if unknown_since is not None and now - unknown_since < self._ttl:
            return None
        if now < self._unreachable_until:
            return self._last_known(sid)
        try:
            return await self._read(sid)
        except Exception as error:
            if not is_infrastructure_failure(error):
                raise
            self._outage.failed(error)
            self._unreachable_until = time.monotonic() + RETRY_SECONDS
            return self._last_known(sid)

    def forget(self, sid: str) -> None:
        self._known.pop(sid, None)
        self._unknown.pop(sid, None)
        # A read under way may have started before the change: it must not store what it finds.
        self._reading.pop(sid, None)

    def _last_known(self, sid: str) -> Provider:
        known = self._known.get(sid)
        if known is None:
            raise provider_unknown_now(sid)
        return known[1]

    async def _read(self, sid: str) -> Provider | None:
        """One read per SID at a time, whoever asks meanwhile waits for it (a burst of callbacks of one provider is
        one query, and one failed connection in an outage). Shielded: a caller that gives up cancels only itself."""
        reading = self._reading.get(sid)
        if reading is None:
            reading = asyncio.create_task(self._fetch(sid))
            self._reading[sid] = reading
            reading.add_done_callback(lambda task: self._done_reading(sid, task))
        return await asyncio.shield(reading)

    def _done_reading(self, sid: str, task: asyncio.Task[Provider | None]) -> None:
        if self._reading.get(sid) is task:
            del self._reading[sid]
        if not task.cancelled():
            task.exception()  # retrieved: when every caller gave up, nobody else would

    async def _fetch(self, sid: str) -> Provider | None:
        found = await asyncio.wait_for(store.get_provider(self._pool, sid=sid, box=self.box), LOOKUP_TIMEOUT_SECONDS)
        self._outage.recovered()
        self._unreachable_until = 0.0
        if self._reading.get(sid) is not asyncio.current_task():
            return found  # forgotten meanwhile: the next lookup reads again
        now = time.monotonic()
        if found is None:
            self._known.pop(sid, None)
            if len(self._unknown) >= self._MAX_UNKNOWN:
                self._unknown.clear()
            self._unknown[sid] = now
        else:
            self._unknown.pop(sid, None)
            self._known[sid] = (now, found)
        return found
