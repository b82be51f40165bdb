"""Use cases of the ingress service: manage provider connections, hand inbound messages to the fabric."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aio_pika
import asyncpg

from services.ingress import store
from services.ingress.domain.providers import Provider, ProviderFields
from services.ingress.domain.sends import (
    ANSWER_NOT_RECORDED,
    FAILED,
    NO_PROVIDER,
    ReceiptStatus,
    Send,
    receipt_status,
    status_report_id,
)
from services.ingress.domain.twilio_inbound import inbound_message_id
from services.ingress.domain.whatsapp_cloud import Webhook
from services.ingress.errors import address_claimed_concurrently, address_taken, broker_unavailable
from services.ingress.inbound_media import InboundMediaFetcher
from services.ingress.provider_directory import ProviderDirectory
from shared.broker.connection import Broker, UnroutableMessage
from shared.broker.topology import COMMANDS, DEAD, EVENTS, INBOUND, INGRESS_SENDS
from shared.contracts.channels import (
    DELIVERY_RECEIPT,
    PROVIDER_STATUS,
    SEND_MESSAGE,
    DeliveryReceiptReport,
    OutboundMedia,
    OutboundMessage,
    ProviderStatusReport,
)
from shared.contracts.conversations import (
    CONVERSATION_REMOVED,
    CONVERSATION_STATE_UPDATED,
    PARTICIPANT_ADDED,
    PARTICIPANT_REMOVED,
    ResourceEvent,
)
from shared.contracts.envelope import Envelope, make_envelope
from shared.contracts.fabric import CONSUMER_FAILED, ConsumerFailed
from shared.contracts.ingress import INBOUND_MESSAGE, InboundMessage
from shared.contracts.realtime import REALTIME_EVENT, RealtimeEvent
from shared.errors import not_found
from shared.outages import is_infrastructure_failure
from shared.outbox import add_to_outbox

log = logging.getLogger(__name__)

_PUBLISH_FAILURES = (
    UnroutableMessage, aio_pika.exceptions.AMQPError, aio_pika.exceptions.ChannelInvalidStateError,
    ConnectionError, TimeoutError,
)

Change = Callable[[Provider], ProviderFields]
# Marks the dead letter of a parked send, so its replay restarts the send instead of being taken for a duplicate.
PARKED_CORRELATION_PREFIX = "parked:"


async def create_provider(pool: asyncpg.Pool, directory: ProviderDirectory, *, account_sid: str,
                          fields: ProviderFields) -> Provider:
    async with pool.acquire() as conn, conn.transaction():
        await _refuse_taken_addresses(conn, account_sid=account_sid, fields=fields, other_than=None)
        try:
            sid = await store.insert_provider(conn, account_sid=account_sid, fields=fields, box=directory.box)
        except asyncpg.UniqueViolationError as error:
            # Another request claimed one of these addresses between the check above and the insert.
            raise address_claimed_concurrently() from error
        created = await store.get_provider(conn, sid=sid, box=directory.box)
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
        current = await store.get_provider(conn, sid=sid, account_sid=account_sid, box=directory.box)
        assert current is not None
        fields = change(current)
        await _refuse_taken_addresses(conn, account_sid=account_sid, fields=fields, other_than=sid)
        try:
            await store.update_provider(conn, account_sid=account_sid, sid=sid, fields=fields, box=directory.box)
        except asyncpg.UniqueViolationError as error:
            # Another request claimed one of these addresses between the check above and the insert.
            raise address_claimed_concurrently() from error
        updated = await store.get_provider(conn, sid=sid, box=directory.box)
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


async def accept_inbound_message(broker: Broker, *, provider: Provider, inbound: InboundMessage,
                                 publish_timeout: float, media: InboundMediaFetcher | None = None) -> None:
    """Fetch the message's files into the blob store (with `media`), publish the message and wait for the
    broker's confirm; raises a 503 error when it was not taken within `publish_timeout` (a provider gives up on
    a webhook after ~15 s: answered before that, it retries).

    No database read or write happens here: the broker is the durable record, and a provider's retry of
    the same MessageSid yields the same `message_id`, which the consumer deduplicates.
    """
    if media is not None:
        inbound = await media.fetch_all(provider, inbound)
    envelope = Envelope[InboundMessage](
        message_id=inbound_message_id(provider.sid, inbound.channel_message_sid),
        type=INBOUND_MESSAGE,
        account_sid=provider.account_sid,
        correlation_id=inbound.channel_message_sid,
        payload=inbound,
    )
    await _publish_confirmed(broker, envelope, provider_sid=provider.sid, timeout=publish_timeout)


async def accept_status_callback(broker: Broker, *, provider: Provider, report: ProviderStatusReport,
                                 publish_timeout: float) -> None:
    """A provider's status callback, kept by the broker (confirmed) until `record_status_callback` takes it: like an
    inbound message, it needs no database to be answered. Raises a 503 error when it was not taken."""
    envelope = Envelope[ProviderStatusReport](
        message_id=status_report_id(provider.sid, report.channel_message_sid, report.status, report.error_code),
        type=PROVIDER_STATUS,
        account_sid=provider.account_sid,
        correlation_id=report.channel_message_sid,
        payload=report,
    )
    await _publish_confirmed(broker, envelope, provider_sid=provider.sid, timeout=publish_timeout)


async def _publish_confirmed(broker: Broker, envelope: Envelope[Any], *, provider_sid: str, timeout: float) -> None:
    try:
        await asyncio.wait_for(
            broker.publish(INBOUND, envelope.type, envelope.to_bytes(), message_id=str(envelope.message_id)),
            timeout=timeout,
        )
    except Exception as error:
        if not (isinstance(error, _PUBLISH_FAILURES) or is_infrastructure_failure(error)):
            raise
        log.warning("provider callback not queued: %s", error, extra={
            "provider_sid": provider_sid, "channel_message_sid": envelope.correlation_id, "type": envelope.type,
            "message_id": str(envelope.message_id),
        })
        raise broker_unavailable() from error


# --- Outbound sends and their statuses -----------------------------------------------------------------------

async def record_send(conn: asyncpg.Connection, envelope: Envelope[OutboundMessage]) -> None:
    """A send command becomes one send record (once per message and participant); the sender does the rest.

    The same command delivered again finds its record and changes nothing; a parked send's dead letter
    replayed (a new message id, same message and participant) gets a fresh budget.
    """
    command = envelope.payload
    account_sid = envelope.account_sid
    unlinked = [media.media_sid or media.blob_key for media in command.media if not media.url]
    if unlinked:
        # Providers fetch media by URL; one the command gives no URL for cannot be sent.
        log.warning("media without a URL left out of a send: %s", unlinked,
                    extra={"message_sid": command.message_sid, "participant_sid": command.participant_sid})
    provider_sid = await store.find_provider_of_address(conn, account_sid=account_sid, address=command.from_address)
    created = await store.insert_send(conn, account_sid=account_sid, command=command, provider_sid=provider_sid)
    if created is None:
        existing = await store.get_send(conn, message_sid=command.message_sid, participant_sid=command.participant_sid)
        if existing is not None and existing.state == FAILED and existing.account_sid == account_sid \
                and _is_replay(envelope) and provider_sid is not None:
            # The provider is looked up again: the fix for a parked send may have been to add one.
            await store.restart_send(conn, id=existing.id, provider_sid=provider_sid)
            await notify_senders(conn)
        return
    if provider_sid is None:
        await park_send(conn, created, error_code=NO_PROVIDER,
                        error_message=f"No provider of account {account_sid} lists the address {command.from_address}")
        return
    await notify_senders(conn)


def _is_replay(envelope: Envelope[OutboundMessage]) -> bool:
    return envelope.correlation_id is not None and envelope.correlation_id.startswith(PARKED_CORRELATION_PREFIX)


async def notify_senders(conn: store.Connection) -> None:
    await conn.execute("SELECT pg_notify($1, '')", sends_channel(await conn.fetchval("SELECT current_schema()")))


def sends_channel(schema: str) -> str:
    return f"parley_sends_{zlib.crc32(schema.encode()):x}"


async def park_send(conn: store.Connection, send: Send, *, error_code: int, error_message: str) -> None:
    """Final failure: recorded on the send, a `failed` receipt for the conversation message, and a dead
    letter (with the provider's error) in the fabric's log, where replaying it sends again."""
    if not await store.mark_send_failed(conn, id=send.id, error_code=error_code, error_message=error_message):
        return
    log.warning("send parked: %s", error_message, extra={
        "message_sid": send.message_sid, "participant_sid": send.participant_sid, "error_code": error_code})
    await _add_receipt(conn, send, status="failed", error_code=error_code, channel_message_sid=send.channel_message_sid,
                       reported_at=datetime.now(UTC))
    command = OutboundMessage(
        conversation_sid=send.conversation_sid, message_sid=send.message_sid, participant_sid=send.participant_sid,
        channel=send.channel,  # type: ignore[arg-type]
        from_address=send.from_address, to_address=send.to_address, body=send.body,
        media=[OutboundMedia(url=url, content_type=content_type)
               for url, content_type in zip(send.media_urls, send.media_content_types, strict=True)],
        content_sid=send.content_sid,
    )
    # Its own message id, so a replay is not taken for a redelivery of the original command.
    dead = Envelope[OutboundMessage](
        type=SEND_MESSAGE, account_sid=send.account_sid, payload=command,
        correlation_id=f"{PARKED_CORRELATION_PREFIX}{send.message_sid}/{send.participant_sid}",
    )
    # The logical queue name: the dead-letter log names queues without the deployment's prefix.
    await add_to_outbox(conn, exchange=DEAD, envelope=dead, headers={
        "x-first-death-queue": INGRESS_SENDS.name, "x-first-death-reason": "rejected", "x-first-death-exchange": COMMANDS,
    })
    await store.route_outbox_message(conn, message_id=dead.message_id, routing_key=f"dead.{INGRESS_SENDS.name}")
    failure = make_envelope(CONSUMER_FAILED, ConsumerFailed(
        queue=INGRESS_SENDS.name, failed_message_id=dead.message_id,
        error=f"Provider error {error_code}: {error_message}"[:2000], delivery_count=send.attempts,
    ), account_sid="system")
    await add_to_outbox(conn, exchange=DEAD, envelope=failure)
    await store.route_outbox_message(conn, message_id=failure.message_id,
                                     routing_key=f"{CONSUMER_FAILED}.{INGRESS_SENDS.name}")


async def _add_receipt(conn: store.Connection, send: Send, *, status: ReceiptStatus, error_code: int | None,
                       channel_message_sid: str | None, reported_at: datetime) -> None:
    report = DeliveryReceiptReport(
        conversation_sid=send.conversation_sid, message_sid=send.message_sid, participant_sid=send.participant_sid,
        channel_message_sid=channel_message_sid or None, status=status, error_code=error_code or 0,
        reported_at=reported_at,
    )
    await add_to_outbox(conn, exchange=INBOUND, envelope=make_envelope(
        DELIVERY_RECEIPT, report, account_sid=send.account_sid, correlation_id=send.message_sid))


async def record_submitted(conn: store.Connection, send: Send, *, channel_message_sid: str,
                           provider_status: str | None) -> None:
    """The provider took the send; statuses it reported before we heard its answer apply now."""
    assert send.provider_sid is not None
    await store.lock_channel_message(conn, provider_sid=send.provider_sid, channel_message_sid=channel_message_sid)
    holder = await store.get_send_of_channel_message(conn, provider_sid=send.provider_sid,
                                                     channel_message_sid=channel_message_sid)
    if holder is not None and holder.id != send.id:
        # Its statuses could not be told from the other's: parked with the reason, never posted again.
        await park_send(conn, send, error_code=ANSWER_NOT_RECORDED, error_message=(
            f"The provider answered with message id {channel_message_sid}, which it gave another send already "
            f"(message {holder.message_sid} to participant {holder.participant_sid})"))
        return
    if not await store.mark_send_submitted(conn, id=send.id, channel_message_sid=channel_message_sid,
                                           provider_status=provider_status):
        return
    for status, error_code, reported_at in await store.take_early_statuses(
            conn, provider_sid=send.provider_sid, channel_message_sid=channel_message_sid):
        await record_provider_status(conn, provider_sid=send.provider_sid, channel_message_sid=channel_message_sid,
                                     status=status, error_code=error_code, reported_at=reported_at)


async def record_provider_status(conn: store.Connection, *, provider_sid: str, channel_message_sid: str, status: str,
                                 error_code: int | None, reported_at: datetime) -> None:
    """A provider's status for one of our sends: always noted on the record; `sent`, `delivered`, `read`,
    `undelivered` and `failed` also become a delivery receipt, once each."""
    receipt = receipt_status(status)
    send, first_report = await store.record_provider_status(
        conn, provider_sid=provider_sid, channel_message_sid=channel_message_sid, status=status.lower(),
        error_code=error_code, report=receipt is not None,
    )
    if send is None:
        await store.insert_early_status(conn, provider_sid=provider_sid, channel_message_sid=channel_message_sid,
                                        status=status.lower(), error_code=error_code, reported_at=reported_at)
        return
    if receipt is not None and first_report:
        await _add_receipt(conn, send, status=receipt, error_code=error_code, channel_message_sid=channel_message_sid,
                           reported_at=reported_at)


async def record_status_callback(conn: asyncpg.Connection, envelope: Envelope[ProviderStatusReport]) -> None:
    """A status callback the broker kept (`accept_status_callback`), now recorded on its send."""
    report = envelope.payload
    await store.lock_channel_message(conn, provider_sid=report.provider_sid,
                                     channel_message_sid=report.channel_message_sid)
    await record_provider_status(conn, provider_sid=report.provider_sid, channel_message_sid=report.channel_message_sid,
                                 status=report.status, error_code=report.error_code, reported_at=report.reported_at)


async def accept_whatsapp_webhook(pool: asyncpg.Pool, broker: Broker, *, provider: Provider, webhook: Webhook,
                                  publish_timeout: float, media: InboundMediaFetcher | None = None) -> None:
    """Customers' messages open (or extend) their 24-hour window, then go on the fabric like any inbound message;
    statuses update their sends and become receipts.

    The window is noted first, so that no reply can find it closed: while the database is down a webhook with
    messages is answered 503 and nothing published, and Meta retries it (for days) until it is taken. Statuses
    alone need no database."""
    if webhook.messages:
        async with pool.acquire() as conn, conn.transaction():
            for message in webhook.messages:
                await store.note_customer_wrote(conn, provider_sid=provider.sid,
                                                customer_address=message.from_address, at=message.received_at)
    for message in webhook.messages:
        await accept_inbound_message(broker, provider=provider, inbound=message, publish_timeout=publish_timeout,
                                     media=media)
    for status in webhook.statuses:
        await accept_status_callback(broker, provider=provider, publish_timeout=publish_timeout, report=ProviderStatusReport(
            provider_sid=provider.sid, channel_message_sid=status.channel_message_sid, status=status.status.lower(),
            error_code=status.error_code, reported_at=status.reported_at))


# --- Realtime: conversation events logged for resume and re-announced to every replica ---------------------------

_MESSAGE_EVENTS = ("message.added", "message.updated", "message.removed")


async def log_conversation_event(conn: asyncpg.Connection, envelope: Envelope[ResourceEvent]) -> None:
    """Keep who may see a conversation and its message events, then announce the event to every ingress replica.

    Announcing it only after it is committed here means a reconnecting client never misses an event that
    fell between reading the log and subscribing: whatever the log lacked, the announcement brings.
    """
    resource = envelope.payload.resource
    account_sid = envelope.account_sid
    if envelope.type == CONVERSATION_REMOVED:
        if isinstance(resource.get("sid"), str):
            await store.delete_conversation_members(conn, account_sid=account_sid, conversation_sid=resource["sid"])
            await store.delete_closed_conversation(conn, account_sid=account_sid, conversation_sid=resource["sid"])
        return
    if envelope.type == CONVERSATION_STATE_UPDATED:
        # Closed is final: from now on its guests' tokens are no longer renewed (api/webchats.py).
        if resource.get("state") == "closed" and isinstance(resource.get("sid"), str):
            await store.insert_closed_conversation(conn, account_sid=account_sid, conversation_sid=resource["sid"])
        return
    conversation_sid = resource.get("conversation_sid")
    if not isinstance(conversation_sid, str):
        return
    identity = resource.get("identity") if isinstance(resource.get("identity"), str) else None
    participant_sid = resource.get("sid")
    event = RealtimeEvent(conversation_sid=conversation_sid, event_type=envelope.type, resource=resource,
                          identity=identity)
    if envelope.type in _MESSAGE_EVENTS:
        index = resource.get("index")
        if not isinstance(index, int):
            return
        event.message_index = index
        event.log_id = await store.insert_logged_event(
            conn, account_sid=account_sid, conversation_sid=conversation_sid, type_=envelope.type,
            message_index=index, resource=resource, occurred_at=envelope.occurred_at,
        )
    elif identity and isinstance(participant_sid, str) and envelope.type == PARTICIPANT_ADDED:
        await store.insert_member(conn, account_sid=account_sid, identity=identity, conversation_sid=conversation_sid,
                                  participant_sid=participant_sid)
    elif isinstance(participant_sid, str) and envelope.type == PARTICIPANT_REMOVED:
        await store.delete_member(conn, account_sid=account_sid, conversation_sid=conversation_sid,
                                  participant_sid=participant_sid)
    await add_to_outbox(conn, exchange=EVENTS, envelope=make_envelope(
        REALTIME_EVENT, event, account_sid=account_sid, correlation_id=envelope.correlation_id))
