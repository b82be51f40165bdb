"""A customer's message from a provider: threaded into the conversation holding its pair, else a new one.

Before the transaction, `prepare_inbound` asks the pre-event webhook that applies (onMessageAdd for an
existing conversation; onConversationAdd, with the message body and the number pair, for an
auto-creation — TWILIO-NOTES §3.2), so no transaction stays open while a business thinks. The
transaction then applies the verdict: refused → nothing stored, nothing announced, the drop recorded;
changed → stored as changed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import asyncpg

from services.conversations import render, store
from services.conversations.announce import Change, announce
from services.conversations.domain.identity import Media
from services.conversations.domain.models import Conversation, Participant, channel_of
from services.conversations.domain.pre_events import (
    ALLOWED,
    Verdict,
    conversation_add_fields,
    message_add_fields,
    pre_event_targets,
)
from services.conversations.domain.webhook_fields import conversation_fields, participant_fields
from services.conversations.flex_flow_addresses import flex_flow_for
from services.conversations.handlers.conversations import Action
from services.conversations.handlers.messages import add_message
from services.conversations.pre_events import PreEvents
from services.conversations.store import dropped_messages
from services.conversations.store import media as media_store
from shared.broker.failures import PermanentFailure, PrepareAgain
from shared.contracts import conversations as events
from shared.contracts.envelope import Envelope
from shared.contracts.ingress import InboundMessage
from shared.sids import new_sid

log = logging.getLogger(__name__)
_MEDIA_TYPE = re.compile(r"^[!-~]{1,127}/[!-~]{1,127}$")  # what the media table accepts


class NoAddressConfiguration(PermanentFailure):
    pass


@dataclass(frozen=True)
class InboundPlan:
    """What `prepare_inbound` saw and what the pre-event hooks said; valid while the pair's conversation is the same."""

    conversation_sid: str | None  # the conversation holding the pair; None: the message would create one
    verdict: Verdict = ALLOWED


def pair_key(envelope: Envelope[InboundMessage]) -> tuple[str, str, str]:
    """One customer pair's messages are prepared and applied one at a time, in the order they came."""
    return envelope.account_sid, envelope.payload.from_address, envelope.payload.to_address


async def prepare_inbound(pool: asyncpg.Pool, pre_events: PreEvents, envelope: Envelope[InboundMessage]) -> InboundPlan:
    """Which pre-event applies, and its answer; the connection is given back before asking."""
    inbound = envelope.payload
    account_sid = envelope.account_sid
    source = inbound.channel.upper()
    async with pool.acquire() as conn:
        if await _seen_before(conn, envelope):
            return InboundPlan(conversation_sid=None)  # the transaction finds it too, and does nothing
        account = await store.get_account_configuration(conn, account_sid=account_sid)
        customer = await store.find_bound_participant(
            conn, account_sid=account_sid, address=inbound.from_address, proxy_address=inbound.to_address
        )
        if customer is not None:
            conversation = await store.get_conversation(conn, account_sid=account_sid,
                                                        sid_or_unique_name=customer.conversation_sid)
            if conversation is None:
                raise PrepareAgain("the pair's conversation went away")
            event = "onMessageAdd"
            service = await store.get_service_webhooks(conn, chat_service_sid=conversation.chat_service_sid)
            fields = message_add_fields(conversation, author=inbound.from_address, body=inbound.body,
                                        participant_sid=customer.sid)
        else:
            address = await store.get_address_configuration(conn, account_sid=account_sid,
                                                            sid_or_address=inbound.to_address)
            flex_flow = None if address is not None else await flex_flow_for(
                conn, account_sid=account_sid, address=inbound.to_address)
            if (address is None or not address.auto_creation_enabled) and flex_flow is None:
                return InboundPlan(conversation_sid=None)  # parked in the transaction
            wanted = address.conversation_service_sid if address is not None else None
            service_sid = wanted or await store.ensure_default_service(conn, account_sid=account_sid)
            event = "onConversationAdd"
            service = await store.get_service_webhooks(conn, chat_service_sid=service_sid)
            fields = conversation_add_fields(
                chat_service_sid=service_sid, friendly_name=inbound.profile_name or inbound.from_address,
                address=inbound.from_address, proxy_address=inbound.to_address, message_body=inbound.body,
                binding_type=channel_of(inbound.from_address),
            )
        targets = pre_event_targets(account, service, event)
    verdict = await pre_events.ask(targets, event=event, account_sid=account_sid, source=source, fields=fields,
                                   correlation_id=str(envelope.message_id))
    return InboundPlan(conversation_sid=customer.conversation_sid if customer else None, verdict=verdict)


async def _seen_before(conn: store.Connection, envelope: Envelope[InboundMessage]) -> bool:
    """Stored or dropped already: a provider's retry of one MessageSid is one message."""
    account_sid, sid = envelope.account_sid, envelope.payload.channel_message_sid
    return (await store.channel_message_exists(conn, account_sid=account_sid, channel_message_sid=sid)
            or await dropped_messages.message_was_dropped(conn, account_sid=account_sid, channel_message_sid=sid))


async def receive_inbound_message(
    conn: store.Connection, envelope: Envelope[InboundMessage], *, base: str, timer_scale: float = 1.0,
    plan: InboundPlan | None = None,
) -> None:
    """Thread a customer's message: into the conversation holding its address pair, else a new one.

    With a `plan`, its verdict applies, provided the pair still belongs where it did when it was asked.
    """
    inbound = envelope.payload
    account_sid = envelope.account_sid
    # Serialise the messages of one customer pair, so racing first messages make one conversation.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"{account_sid}|{inbound.from_address}|{inbound.to_address}",
    )
    if await _seen_before(conn, envelope):
        return
    # Messaging participants' actions always fire webhooks (TWILIO-NOTES §1.3).
    action = Action(base=base, source=inbound.channel.upper(), timer_scale=timer_scale,
                    correlation_id=str(envelope.message_id))
    customer = await store.find_bound_participant(
        conn, account_sid=account_sid, address=inbound.from_address, proxy_address=inbound.to_address
    )
    if plan is not None and plan.conversation_sid != (customer.conversation_sid if customer else None):
        raise PrepareAgain("the pair's conversation changed since the pre-event webhook was asked")
    verdict = plan.verdict if plan is not None else ALLOWED
    if verdict.blocked:
        await _record_drop(conn, envelope, conversation_sid=customer.conversation_sid if customer else None,
                           verdict=verdict)
        return
    if customer is None:
        conversation, customer = await _auto_create(conn, inbound, account_sid=account_sid, action=action,
                                                    friendly_name=verdict.fields.get("friendly_name"))
    else:
        found = await store.get_conversation(
            conn, account_sid=account_sid, sid_or_unique_name=customer.conversation_sid, for_update=True
        )
        assert found is not None
        conversation = found
    changed = verdict.fields if verdict.event_type == "onMessageAdd" else {}
    media = await _store_media(conn, envelope, chat_service_sid=conversation.chat_service_sid)
    await add_message(
        conn, conversation=conversation, author=changed.get("author", inbound.from_address),
        body=changed.get("body", inbound.body), action=action, participant_sid=customer.sid,
        channel_message_sid=inbound.channel_message_sid,
        values={"attributes": changed["attributes"]} if "attributes" in changed else None,
        media=media,
    )


async def _store_media(conn: store.Connection, envelope: Envelope[InboundMessage], *,
                       chat_service_sid: str) -> list[Media]:
    """Media records (of the conversation's service) for the files ingress fetched into the blob store; a file
    it could not fetch is left out, and said so in the log: the message itself is kept."""
    inbound = envelope.payload
    account_sid = envelope.account_sid
    media: list[Media] = []
    for item in inbound.media:
        # Only keys ingress writes for this account: a message never names another account's bytes.
        if not item.blob_key or item.error or not item.blob_key.startswith(f"{account_sid}/"):
            log.warning("inbound media left out: %s", item.error or "no stored file", extra={
                "account_sid": account_sid, "channel_message_sid": inbound.channel_message_sid,
                "provider_sid": inbound.provider_sid, "url": item.url, "correlation_id": str(envelope.message_id),
            })
            continue
        media.append(await media_store.insert_media(
            conn, sid=new_sid("ME"), account_sid=account_sid, chat_service_sid=chat_service_sid,
            content_type=item.content_type if _MEDIA_TYPE.match(item.content_type) else "application/octet-stream",
            filename=item.filename[:1024] if item.filename else None, size=item.size or 0,
            blob_key=item.blob_key, author=inbound.from_address,
        ))
    return media


async def _record_drop(conn: store.Connection, envelope: Envelope[InboundMessage], *, conversation_sid: str | None,
                       verdict: Verdict) -> None:
    inbound = envelope.payload
    assert verdict.event_type is not None and verdict.blocked_by is not None
    await dropped_messages.insert_dropped_message(
        conn, account_sid=envelope.account_sid, channel_message_sid=inbound.channel_message_sid,
        from_address=inbound.from_address, to_address=inbound.to_address, conversation_sid=conversation_sid,
        event_type=verdict.event_type, url=verdict.blocked_by, response_code=verdict.status_code,
        message_id=envelope.message_id,
    )
    log.warning("inbound message dropped: a pre-event webhook refused it", extra={
        "account_sid": envelope.account_sid, "conversation_sid": conversation_sid,
        "channel_message_sid": inbound.channel_message_sid, "provider_sid": inbound.provider_sid,
        "event_type": verdict.event_type, "url": verdict.blocked_by, "response_code": verdict.status_code,
        "correlation_id": str(envelope.message_id),
    })


async def _auto_create(
    conn: store.Connection, inbound: InboundMessage, *, account_sid: str, action: Action,
    friendly_name: str | None = None,
) -> tuple[Conversation, Participant]:
    address = await store.get_address_configuration(conn, account_sid=account_sid, sid_or_address=inbound.to_address)
    # No address configuration at all: a Flex Flow answering the address may take it (flex_flow_addresses.py).
    flex_flow = None if address is not None else await flex_flow_for(
        conn, account_sid=account_sid, address=inbound.to_address)
    if (address is None or not address.auto_creation_enabled) and flex_flow is None:
        raise NoAddressConfiguration(
            f"No address configuration with auto-creation enabled for {inbound.to_address}; message parked"
        )
    service_sid = (address.conversation_service_sid if address is not None else None) \
        or await store.ensure_default_service(conn, account_sid=account_sid)
    conversation = await store.insert_conversation(
        conn, account_sid=account_sid, chat_service_sid=service_sid,
        friendly_name=friendly_name or inbound.profile_name or inbound.from_address,
    )
    if address is not None and address.auto_creation_type == "webhook" and address.webhook_url:
        await store.insert_scoped_webhook(
            conn, account_sid=account_sid, conversation_sid=conversation.sid, target="webhook",
            url=address.webhook_url, method=address.webhook_method or "POST", filters=address.webhook_filters,
            origin="address",
        )
    if address is None and flex_flow is not None and flex_flow.webhook_url:
        await store.insert_scoped_webhook(
            conn, account_sid=account_sid, conversation_sid=conversation.sid, target="webhook",
            url=flex_flow.webhook_url, method="POST", filters=["onMessageAdded"], origin="address",
        )
    customer = await store.insert_messaging_participant(
        conn, account_sid=account_sid, conversation_sid=conversation.sid, binding_type=channel_of(inbound.from_address),
        address=inbound.from_address, proxy_address=inbound.to_address,
    )
    root = render.Root(action.base)
    await announce(conn, account_sid=account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.CONVERSATION_ADDED, webhook_event="onConversationAdded",
        resource=render.conversation(conversation, root), fields=conversation_fields(conversation, customer),
        source=action.source,
    ), correlation_id=action.correlation_id, chat_service_sid=service_sid)
    await announce(conn, account_sid=account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.PARTICIPANT_ADDED, webhook_event="onParticipantAdded",
        resource=render.participant(customer, root), fields=participant_fields(customer, conversation),
        source=action.source,
    ), correlation_id=action.correlation_id, chat_service_sid=service_sid)
    return conversation, customer
