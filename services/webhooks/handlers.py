"""The webhooks service's use cases, one function each; every one owns its transaction (or runs in the consumer's)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import aio_pika
import asyncpg

from services.webhooks import store
from services.webhooks.domain.concurrency import saturated_endpoints, within_endpoint_limits
from services.webhooks.domain.dead_letters import (
    REPLAY_HEADER,
    account_of,
    clean_text,
    normal_message_id,
    parse_body,
    read_death,
    replay_headers,
)
from services.webhooks.domain.endpoints import endpoint_of
from services.webhooks.domain.models import DeadLetter, Delivery, DeliveryFilters
from services.webhooks.domain.outcomes import AttemptResult, NextStep, RetryPolicy, next_step
from services.webhooks.errors import already_replayed, replay_not_taken
from services.webhooks.sender import ask_pre_event
from shared.auth.accounts import Account, AccountDirectory
from shared.broker.connection import Broker
from shared.broker.topology import WEBHOOKS_DELIVERIES
from shared.contracts.envelope import Envelope
from shared.contracts.fabric import ConsumerFailed
from shared.contracts.webhooks import DELIVER_WEBHOOK, PreEventReply, PreEventRequest, WebhookDelivery
from shared.errors import not_found
from shared.outbound_http import OutboundHttp
from shared.sids import sid_from

log = logging.getLogger(__name__)


# Consumed messages ------------------------------------------------------------------------------------

async def accept_delivery(conn: store.Connection, envelope: Envelope[WebhookDelivery]) -> None:
    """Store the command as a pending delivery, due now, and wake the dispatchers."""
    command = envelope.payload
    sid = sid_from("DL", str(envelope.message_id))
    await store.insert_delivery(
        conn, sid=sid, account_sid=envelope.account_sid, message_id=envelope.message_id,
        correlation_id=envelope.correlation_id, command=command, endpoint=endpoint_of(command.url),
    )


async def record_dead_letter(
    conn: store.Connection, *, body: bytes, headers: Mapping[str, Any], message_id: str | None, key: uuid.UUID,
    broker_prefix: str,
) -> None:
    """Record a message some queue dead-lettered, with the last error its consumer reported if that came first."""
    death = read_death(headers, broker_prefix=broker_prefix)
    is_json, payload = parse_body(body)
    message = clean_text(normal_message_id(message_id))
    queue = clean_text(death.queue) or "unknown"
    if message is not None:
        await store.lock_message(conn, queue=queue, message_id=message)
    sid = sid_from("DX", str(key))
    inserted = await store.insert_dead_letter(
        conn, sid=sid, account_sid=account_of(payload) if is_json else None, source="broker", queue=queue,
        routing_key=clean_text(death.routing_key) or "", reason=clean_text(death.reason) or "unknown", error=None,
        message_id=message, payload=payload if is_json else None, body=body, headers=replay_headers(headers),
    )
    if inserted and message is not None:
        await store.copy_failure_onto_dead_letters(conn, queue=queue, message_id=message)
    if inserted:
        log.warning("dead letter recorded", extra={"dead_letter_sid": sid, "queue": queue, "reason": death.reason,
                                                   "message_id": message})


async def record_consumer_failure(conn: store.Connection, envelope: Envelope[ConsumerFailed]) -> None:
    """Keep the latest failure per message, and put it on the message's dead letter if that came first."""
    report = envelope.payload
    if report.failed_message_id is None:
        return  # nothing to join it to; the consumer logged it
    message_id = str(report.failed_message_id)
    await store.lock_message(conn, queue=report.queue, message_id=message_id)
    await store.upsert_consumer_failure(
        conn, queue=report.queue, failed_message_id=message_id, error=clean_text(report.error) or "",
        delivery_count=report.delivery_count, date_reported=envelope.occurred_at,
    )
    await store.copy_failure_onto_dead_letters(conn, queue=report.queue, message_id=message_id)


# Pre-event webhooks (RPC) ---------------------------------------------------------------------------------

async def answer_pre_event(
    outbound: OutboundHttp, directory: AccountDirectory, envelope: Envelope[PreEventRequest], *, default_timeout: float,
) -> PreEventReply:
    """Call the business's pre-event URL and say whether the action may go ahead, and changed how."""
    request = envelope.payload
    reply = await ask_pre_event(outbound, directory, request, account_sid=envelope.account_sid,
                                default_timeout=default_timeout)
    log.info("pre-event webhook answered", extra={
        "account_sid": envelope.account_sid, "event_type": request.event_type, "url": request.url,
        "outcome": reply.outcome, "response_code": reply.status_code, "latency_ms": reply.latency_ms,
        "error": reply.error, "correlation_id": envelope.correlation_id,
    })
    return reply


# The dispatcher's work ----------------------------------------------------------------------------------

async def claim_deliveries(
    pool: asyncpg.Pool, *, limit: int, endpoint_load: Mapping[str, int], per_endpoint: int,
    lease_token: uuid.UUID, lease_seconds: float, open_circuits: Sequence[str] = (), in_flight: Sequence[str] = (),
) -> list[Delivery]:
    """Take up to `limit` due deliveries under a lease, never more per endpoint than its free slots,
    and none for an endpoint whose circuit is open; each one's attempt is logged as in flight.

    `in_flight` are the deliveries this instance is attempting: should a lease of its own have run out
    (its heartbeat could not reach the database), it does not start a second attempt beside the first."""
    excluded = [*saturated_endpoints(endpoint_load, per_endpoint=per_endpoint), *open_circuits]
    async with pool.acquire() as conn, conn.transaction():
        candidates = await store.claim_candidates(conn, limit=limit, exclude_endpoints=excluded,
                                                  exclude_sids=in_flight)
        chosen = within_endpoint_limits(candidates, load=endpoint_load, per_endpoint=per_endpoint)
        if not chosen:
            return []
        return await store.lease_deliveries(conn, sids=chosen, lease_token=lease_token, lease_seconds=lease_seconds)


async def record_attempt(
    pool: asyncpg.Pool, *, claimed: Delivery, lease_token: uuid.UUID, result: AttemptResult, policy: RetryPolicy,
    jitter: float,
) -> NextStep | None:
    """Record the attempt's outcome and move the delivery on; a delivery that gives up is parked as a dead letter.

    When the lease was lost (another dispatcher took over) or a replay came in during the attempt,
    the attempt's outcome is recorded but the delivery's state is left to them.
    """
    # The usual case, nothing changed since the claim and nothing to park, takes one statement.
    expected = next_step(result.outcome, attempts_in_budget=claimed.attempts_in_budget, policy=policy, jitter=jitter)
    if expected.status != "failed":
        async with pool.acquire() as conn:
            if await store.record_attempt_if_held(
                conn, claimed=claimed, lease_token=lease_token, date_attempted=result.date_attempted,
                response_code=result.response_code, latency_ms=result.latency_ms,
                attempt_error=clean_text(result.error), status=expected.status, delay=expected.delay,
                delivery_error=clean_text(expected.error),
            ):
                return expected
    async with pool.acquire() as conn, conn.transaction():
        found = await store.get_delivery_for_update(conn, sid=claimed.sid)
        if found is None:
            return None
        current, holder = found
        await store.complete_attempt(
            conn, delivery_sid=current.sid, number=claimed.attempt_count, date_attempted=result.date_attempted,
            response_code=result.response_code, latency_ms=result.latency_ms, error=clean_text(result.error),
        )
        if holder != lease_token:
            return None  # taken over: the delivery is another dispatcher's now
        if current.replays != claimed.replays:
            await store.update_delivery_after_attempt(conn, sid=current.sid)  # a replay made it due again
            return None
        step = next_step(result.outcome, attempts_in_budget=current.attempts_in_budget, policy=policy, jitter=jitter)
        await store.update_delivery_after_attempt(
            conn, sid=current.sid, status=step.status, delay=step.delay, error=clean_text(step.error),
        )
        if step.status == "failed":
            await _park(conn, current, step)
        return step


async def _park(conn: store.Connection, delivery: Delivery, step: NextStep) -> None:
    """A delivery that gave up is listed with the fabric's dead letters, where it can be replayed too."""
    # The payload is the delivery command as it came in.
    command: dict[str, Any] = {
        "event_type": delivery.event_type, "target": delivery.target, "url": delivery.url, "method": delivery.method,
        "params": [list(pair) for pair in delivery.params], "resource_sid": delivery.resource_sid,
        "ordering_key": delivery.ordering_key, "timeout_seconds": delivery.timeout_seconds,
    }
    if delivery.json_body is not None:
        command["json_body"] = delivery.json_body
    await store.insert_dead_letter(
        conn, sid=sid_from("DX", delivery.sid, str(delivery.replays)), account_sid=delivery.account_sid,
        source="webhook", queue=WEBHOOKS_DELIVERIES.name, routing_key=DELIVER_WEBHOOK,
        reason=step.reason or "rejected", error=clean_text(step.error), message_id=None,
        payload=command, body=None, headers={}, delivery_sid=delivery.sid,
    )
    log.warning("webhook delivery parked", extra={"delivery_sid": delivery.sid, "account_sid": delivery.account_sid,
                                                  "error": step.error})


# Replays ------------------------------------------------------------------------------------------------

async def replay_delivery(pool: asyncpg.Pool, *, account_sid: str, sid: str) -> Delivery:
    """Send one delivery again, whatever its status, with a fresh attempt budget."""
    async with pool.acquire() as conn, conn.transaction():
        if not await _replay(conn, account_sid=account_sid, sid=sid):
            raise not_found(f"Webhook delivery {sid}")
        replayed = await store.get_delivery(conn, account_sid=account_sid, sid=sid)
    assert replayed is not None
    return replayed


async def replay_matching_deliveries(pool: asyncpg.Pool, *, account_sid: str, filters: DeliveryFilters) -> int:
    """Send every delivery matching the filters again; returns how many."""
    async with pool.acquire() as conn, conn.transaction():
        return len(await _replay(conn, account_sid=account_sid, filters=filters))


async def _replay(
    conn: store.Connection, *, account_sid: str, sid: str | None = None, filters: DeliveryFilters | None = None
) -> list[str]:
    sids = await store.replay_deliveries(conn, account_sid=account_sid, sid=sid, filters=filters)
    if sids:
        await store.mark_dead_letters_replayed(conn, delivery_sids=sids)
        await store.notify_deliveries(conn)
    return sids


async def replay_dead_letter(pool: asyncpg.Pool, broker: Broker, *, account: Account, sid: str) -> DeadLetter:
    """A broker dead letter goes back to its queue as it was; a parked webhook delivery is delivered again."""
    top_level = account.owner_account_sid is None
    async with pool.acquire() as conn, conn.transaction():
        dead = await store.get_dead_letter(conn, account_sid=account.sid, top_level=top_level, sid=sid, for_update=True)
        if dead is None:
            raise not_found(f"Dead letter {sid}")
        if dead.status != "parked":
            raise already_replayed(sid)
        if dead.delivery_sid is not None and dead.account_sid is not None:
            await _replay(conn, account_sid=dead.account_sid, sid=dead.delivery_sid)
        else:
            await _republish(broker, dead)
        await store.mark_dead_letters_replayed(conn, sids=[dead.sid])
        replayed = await store.get_dead_letter(conn, account_sid=account.sid, top_level=top_level, sid=sid)
    assert replayed is not None
    log.info("dead letter replayed", extra={"dead_letter_sid": sid, "queue": dead.queue})
    return replayed


async def _republish(broker: Broker, dead: DeadLetter) -> None:
    # Marking the message as a replay of this dead letter makes a second death a new dead letter.
    headers = {**dead.headers, REPLAY_HEADER: dead.sid}
    try:
        await broker.publish_to_queue(dead.queue, dead.body or b"", message_id=dead.message_id or dead.sid,
                                      headers=headers)
    except (aio_pika.exceptions.DeliveryError, aio_pika.exceptions.PublishError) as error:
        raise replay_not_taken(dead.queue, str(error)) from error
