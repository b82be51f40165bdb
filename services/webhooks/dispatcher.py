"""The delivery loop: claims due deliveries from PostgreSQL and sends them within the concurrency limits.

Woken by NOTIFY when a delivery is stored or replayed, by a finished attempt, and by its own timer
for the next retry falling due (with the poll interval as a safety net). Work is claimed with
FOR UPDATE SKIP LOCKED under a short lease (`webhook_lease_seconds`) that a heartbeat renews while
attempts are in flight, so several instances share the work and a crashed instance's is taken over
a lease after it died, however long its attempts may take; meanwhile its chains wait. Limits are per
instance: `webhook_concurrency` attempts in all, `webhook_per_endpoint_concurrency` per scheme://host:port.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
import uuid
from collections import Counter

from services.webhooks import handlers, store
from services.webhooks.domain.circuit import CircuitBreakers
from services.webhooks.domain.models import Delivery
from services.webhooks.domain.outcomes import AttemptResult, NextStep, RetryPolicy
from services.webhooks.sender import attempt_delivery
from shared.notifications import Wakeup
from shared.outages import Outage, is_infrastructure_failure
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)

# Renewals per lease period: a renewal or two may be late or fail without the lease running out.
RENEWALS_PER_LEASE = 3
# How long a stopping dispatcher lets attempts in flight finish before cancelling them.
DRAIN_SECONDS = 5.0


class Dispatcher:
    """One per service instance: `run` is its background loop."""

    def __init__(self, context: ServiceContext) -> None:
        settings = context.settings
        self._pool = context.pool
        self._channel = store.deliveries_channel(settings.schema_name(context.name))
        self._outbound = context.outbound
        self._directory = context.authenticate.directory
        self._policy = RetryPolicy(
            max_attempts=settings.webhook_max_attempts,
            backoff_base=settings.webhook_backoff_base_seconds,
            backoff_max=settings.webhook_backoff_max_seconds,
        )
        self._timeout = settings.webhook_timeout_seconds
        self._lease_seconds = settings.webhook_lease_seconds
        self._concurrency = max(1, settings.webhook_concurrency)
        self._per_endpoint = max(1, settings.webhook_per_endpoint_concurrency)
        self._circuits = CircuitBreakers(threshold=settings.webhook_circuit_threshold,
                                         cooldown_seconds=settings.webhook_circuit_cooldown_seconds)
        self._poll_interval = settings.poll_interval_seconds
        self._wakeup: Wakeup | None = None
        self._outage = Outage(log, "the webhook dispatcher")
        self._recording_outage = Outage(log, "recording webhook attempts")
        self._leases: dict[str, uuid.UUID] = {}  # delivery sid -> lease token, while its attempt is in flight
        self._endpoint_load: Counter[str] = Counter()
        self._attempts: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        self._wakeup = Wakeup(self._pool, [self._channel], where="webhook deliveries")
        await self._wakeup.start()
        heartbeat = asyncio.create_task(self._renew_leases())
        try:
            while True:
                self._wakeup.clear()
                try:
                    started = await self._claim_and_start()
                    self._outage.recovered()
                except Exception as error:
                    if not is_infrastructure_failure(error):
                        log.exception("claiming webhook deliveries failed; retrying")
                    else:
                        self._outage.failed(error)
                    started = 0
                if started and len(self._leases) < self._concurrency:
                    continue  # there may be more due work than one claim took
                await self._wakeup.wait(await self._until_next_due())
        finally:
            await self._drain()  # still renewing: what finishes meanwhile is not taken over under it
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            await self._wakeup.stop()

    async def _claim_and_start(self) -> int:
        free = self._concurrency - len(self._leases)
        if free <= 0:
            return 0
        token = uuid.uuid4()
        claimed = await handlers.claim_deliveries(
            self._pool, limit=free, endpoint_load=self._endpoint_load, per_endpoint=self._per_endpoint,
            in_flight=list(self._leases),
            lease_token=token, lease_seconds=self._lease_seconds,
            open_circuits=self._circuits.open_endpoints(time.monotonic()),
        )
        for delivery in claimed:
            self._leases[delivery.sid] = token
            self._endpoint_load[delivery.endpoint] += 1
            task = asyncio.create_task(self._attempt(delivery, token))
            self._attempts.add(task)
            task.add_done_callback(functools.partial(self._finished, delivery=delivery))
        return len(claimed)

    async def _attempt(self, delivery: Delivery, token: uuid.UUID) -> None:
        try:
            try:
                result = await attempt_delivery(self._outbound, self._directory, delivery,
                                                default_timeout=self._timeout)
            finally:
                # The endpoint's slot is for the request; recording the outcome needn't keep it from the next one.
                self._release_endpoint(delivery.endpoint)
            self._circuits.record(delivery.endpoint, answered=result.outcome.verdict != "retry", now=time.monotonic())
            step = await self._record(delivery, token, result)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Its lease runs out and the delivery is tried again: at least once, never silently dropped.
            log.exception("webhook attempt could not be recorded", extra={"delivery_sid": delivery.sid})
            return
        log.info("webhook attempt", extra={
            "delivery_sid": delivery.sid, "account_sid": delivery.account_sid, "url": delivery.url,
            "response_code": result.response_code, "latency_ms": result.latency_ms, "error": result.error,
            "status": step.status if step else None,
        })

    async def _record(self, delivery: Delivery, token: uuid.UUID, result: AttemptResult) -> NextStep | None:
        """Record the outcome, waiting out an outage of the database: what the receiver answered is known, and
        sending it again because that could not be written down would be a duplicate. The delivery stays ours
        meanwhile (the heartbeat renews its lease as soon as the database answers)."""
        while True:
            try:
                step = await handlers.record_attempt(self._pool, claimed=delivery, lease_token=token, result=result,
                                                     policy=self._policy, jitter=random.random())
            except Exception as error:
                if not is_infrastructure_failure(error):
                    raise
                self._recording_outage.failed(error)
                await self._recording_outage.pause()
                continue
            self._recording_outage.recovered()
            return step

    async def _renew_leases(self) -> None:
        """The heartbeat: while attempts are in flight, hold every lease of this instance a lease longer, in one
        statement. An attempt outlasting the lease stays ours; a dead instance's leases run out a lease later."""
        outage = Outage(log, "the webhook lease heartbeat")
        while True:
            await asyncio.sleep(self._lease_seconds / RENEWALS_PER_LEASE)
            tokens = set(self._leases.values())
            if not tokens:
                continue
            try:
                async with self._pool.acquire() as conn:
                    await store.renew_leases(conn, lease_tokens=list(tokens), lease_seconds=self._lease_seconds)
                outage.recovered()
            except Exception as error:
                if not is_infrastructure_failure(error):
                    log.exception("could not renew webhook leases; retrying")
                else:
                    outage.failed(error)

    def _release_endpoint(self, endpoint: str) -> None:
        self._endpoint_load[endpoint] -= 1
        if self._endpoint_load[endpoint] <= 0:
            del self._endpoint_load[endpoint]
        self._wake()

    def _finished(self, task: asyncio.Task[None], *, delivery: Delivery) -> None:
        self._attempts.discard(task)
        self._leases.pop(delivery.sid, None)
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    async def _until_next_due(self) -> float:
        try:
            async with self._pool.acquire() as conn:
                seconds = await store.seconds_until_next_due(conn)
        except Exception as error:
            if not is_infrastructure_failure(error):
                log.exception("could not read when the next webhook retry is due")
            return self._poll_interval
        if seconds is None:
            return self._poll_interval
        return min(max(seconds, 0.0), self._poll_interval)

    async def _drain(self) -> None:
        """Let attempts in flight finish briefly; give back the leases of those that could not."""
        if self._attempts:
            await asyncio.wait(set(self._attempts), timeout=min(self._timeout, DRAIN_SECONDS))
        tokens = set(self._leases.values())
        for task in set(self._attempts):
            task.cancel()
        await asyncio.gather(*self._attempts, return_exceptions=True)
        if tokens:
            try:
                async with self._pool.acquire() as conn:
                    await asyncio.wait_for(store.release_leases(conn, lease_tokens=list(tokens)), timeout=DRAIN_SECONDS)
            except Exception:
                log.warning("could not give back webhook leases; they run out on their own", exc_info=True)
