"""Use cases of the ingress service: manage provider connections, hand inbound messages to the fabric."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aio_pika
import asyncpg

from services.ingress import store
from services.ingress.domain.providers import Provider, ProviderFields
from services.ingress.domain.twilio_inbound import inbound_message_id
from services.ingress.errors import address_claimed_concurrently, address_taken, broker_unavailable
from services.ingress.provider_directory import ProviderDirectory
from shared.broker.connection import Broker, UnroutableMessage
from shared.broker.topology import INBOUND
from shared.contracts.envelope import Envelope
from shared.contracts.ingress import INBOUND_MESSAGE, InboundMessage
from shared.errors import not_found

log = logging.getLogger(__name__)

# A provider gives up on a webhook after ~15 s; answer 503 well before that, so it retries.
PUBLISH_TIMEOUT_SECONDS = 8.0
_PUBLISH_FAILURES = (
    UnroutableMessage, aio_pika.exceptions.AMQPError, aio_pika.exceptions.ChannelInvalidStateError,
    ConnectionError, TimeoutError,
)

Change = Callable[[Provider], ProviderFields]


async def create_provider(pool: asyncpg.Pool, directory: ProviderDirectory, *, account_sid: str,
                          fields: ProviderFields) -> Provider:
    async with pool.acquire() as conn, conn.transaction():
        await _refuse_taken_addresses(conn, account_sid=account_sid, fields=fields, other_than=None)
        try:
            sid = await store.insert_provider(conn, account_sid=account_sid, fields=fields)
        except asyncpg.UniqueViolationError as error:
            # Another request claimed one of these addresses between the check above and the insert.
            raise address_claimed_concurrently() from error
        created = await store.get_provider(conn, sid=sid)
    assert created is not None
    # This SID may have been looked up (and cached as unknown) before it existed.
    directory.forget(sid)
    return created


async def update_provider(pool: asyncpg.Pool, directory: ProviderDirectory, *, account_sid: str, sid: str,
                          change: Change) -> Provider:
    """Apply `change` to the provider as it is now, with its row locked against concurrent updates."""
    async with pool.acquire() as conn, conn.transaction():
        if not await store.lock_provider(conn, sid=sid, account_sid=account_sid):
            raise not_found(f"Provider {sid}")
        current = await store.get_provider(conn, sid=sid, account_sid=account_sid)
        assert current is not None
        fields = change(current)
        await _refuse_taken_addresses(conn, account_sid=account_sid, fields=fields, other_than=sid)
        try:
            await store.update_provider(conn, account_sid=account_sid, sid=sid, fields=fields)
        except asyncpg.UniqueViolationError as error:
            # Another request claimed one of these addresses between the check above and the insert.
            raise address_claimed_concurrently() from error
        updated = await store.get_provider(conn, sid=sid)
    assert updated is not None
    directory.forget(sid)
    return updated


async def delete_provider(pool: asyncpg.Pool, directory: ProviderDirectory, *, account_sid: str, sid: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        if not await store.delete_provider(conn, account_sid=account_sid, sid=sid):
            raise not_found(f"Provider {sid}")
    directory.forget(sid)


async def _refuse_taken_addresses(conn: store.Connection, *, account_sid: str, fields: ProviderFields,
                                  other_than: str | None) -> None:
    owner = await store.find_address_owner(conn, account_sid=account_sid, addresses=fields.addresses,
                                           other_than=other_than)
    if owner is not None:
        raise address_taken(*owner)


async def accept_inbound_message(broker: Broker, *, provider: Provider, inbound: InboundMessage) -> None:
    """Publish the message and wait for the broker's confirm; raises a 503 error when it was not taken.

    No database write happens here: the broker is the durable record, and a provider's retry of
    the same MessageSid yields the same `message_id`, which the consumer deduplicates.
    """
    envelope = Envelope[InboundMessage](
        message_id=inbound_message_id(provider.sid, inbound.channel_message_sid),
        type=INBOUND_MESSAGE,
        account_sid=provider.account_sid,
        correlation_id=inbound.channel_message_sid,
        payload=inbound,
    )
    try:
        await asyncio.wait_for(
            broker.publish(INBOUND, INBOUND_MESSAGE, envelope.to_bytes(), message_id=str(envelope.message_id)),
            timeout=PUBLISH_TIMEOUT_SECONDS,
        )
    except _PUBLISH_FAILURES as error:
        log.warning("inbound message not queued: %s", error, extra={
            "provider_sid": provider.sid, "channel_message_sid": inbound.channel_message_sid,
            "message_id": str(envelope.message_id),
        })
        raise broker_unavailable() from error
