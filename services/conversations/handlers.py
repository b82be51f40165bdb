"""Use cases of the conversations service; each runs inside the caller's transaction."""

from __future__ import annotations

from services.conversations import render, store
from services.conversations.announce import Change, announce
from services.conversations.domain.models import Conversation, Participant, channel_of
from services.conversations.domain.webhook_fields import conversation_fields, message_fields, participant_fields
from shared.broker.failures import PermanentFailure
from shared.contracts import conversations as events
from shared.contracts.envelope import Envelope
from shared.contracts.ingress import InboundMessage


class NoAddressConfiguration(PermanentFailure):
    pass


async def receive_inbound_message(conn: store.Connection, envelope: Envelope[InboundMessage], *, base: str) -> None:
    """Thread a customer's message: into the conversation holding its address pair, else a new one."""
    inbound = envelope.payload
    account_sid = envelope.account_sid
    # Serialise the messages of one customer pair, so racing first messages make one conversation.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"{account_sid}|{inbound.from_address}|{inbound.to_address}",
    )
    if await store.channel_message_exists(conn, account_sid=account_sid, channel_message_sid=inbound.channel_message_sid):
        return
    source = inbound.channel.upper()
    customer = await store.find_bound_participant(
        conn, account_sid=account_sid, address=inbound.from_address, proxy_address=inbound.to_address
    )
    if customer is None:
        conversation, customer = await _auto_create(conn, inbound, account_sid=account_sid, base=base, source=source)
    else:
        found = await store.get_conversation(conn, account_sid=account_sid, sid_or_unique_name=customer.conversation_sid)
        assert found is not None
        conversation = await _reactivate(conn, found, base=base)

    index = await store.next_message_index(conn, conversation_sid=conversation.sid)
    message = await store.insert_message(
        conn, account_sid=account_sid, conversation_sid=conversation.sid, index=index, author=inbound.from_address,
        body=inbound.body, participant_sid=customer.sid, channel_message_sid=inbound.channel_message_sid,
    )
    await announce(conn, account_sid=account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.MESSAGE_ADDED, webhook_event="onMessageAdded", resource=render.message(message, base),
        fields=message_fields(message, conversation), source=source,
    ), correlation_id=str(envelope.message_id))


async def _auto_create(
    conn: store.Connection, inbound: InboundMessage, *, account_sid: str, base: str, source: str
) -> tuple[Conversation, Participant]:
    address = await store.get_address_configuration(conn, account_sid=account_sid, sid_or_address=inbound.to_address)
    if address is None or not address.auto_creation_enabled:
        raise NoAddressConfiguration(
            f"No address configuration with auto-creation enabled for {inbound.to_address}; message parked"
        )
    service_sid = address.conversation_service_sid or await store.ensure_default_service(conn, account_sid=account_sid)
    conversation = await store.insert_conversation(
        conn, account_sid=account_sid, chat_service_sid=service_sid, friendly_name=inbound.profile_name or inbound.from_address,
    )
    if address.auto_creation_type == "webhook" and address.webhook_url:
        await store.insert_scoped_webhook(
            conn, account_sid=account_sid, conversation_sid=conversation.sid, target="webhook",
            url=address.webhook_url, method=address.webhook_method or "POST", filters=address.webhook_filters,
            origin="address",
        )
    customer = await store.insert_messaging_participant(
        conn, account_sid=account_sid, conversation_sid=conversation.sid, binding_type=channel_of(inbound.from_address),
        address=inbound.from_address, proxy_address=inbound.to_address,
    )
    correlation = inbound.channel_message_sid
    await announce(conn, account_sid=account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.CONVERSATION_ADDED, webhook_event="onConversationAdded",
        resource=render.conversation(conversation, base), fields=conversation_fields(conversation, customer),
        source=source,
    ), correlation_id=correlation)
    await announce(conn, account_sid=account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.PARTICIPANT_ADDED, webhook_event="onParticipantAdded",
        resource=render.participant(customer, base), fields=participant_fields(customer, conversation), source=source,
    ), correlation_id=correlation)
    return conversation, customer


async def _reactivate(conn: store.Connection, conversation: Conversation, *, base: str) -> Conversation:
    """A new message wakes an inactive conversation (Reason EVENT)."""
    if conversation.state != "inactive":
        return conversation
    updated = await store.set_conversation_state(conn, sid=conversation.sid, state="active")
    fields = [
        ("ConversationSid", updated.sid), ("ChatServiceSid", updated.chat_service_sid),
        ("StateFrom", "inactive"), ("StateTo", "active"), ("Reason", "EVENT"),
        ("StateUpdated", render.conversation(updated, base)["date_updated"]),
    ]
    await announce(conn, account_sid=updated.account_sid, conversation_sid=updated.sid, change=Change(
        event=events.CONVERSATION_STATE_UPDATED, webhook_event="onConversationStateUpdated",
        resource=render.conversation(updated, base), fields=fields, source="API",
    ))
    return updated
