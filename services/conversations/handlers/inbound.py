"""A customer's message from a provider: threaded into the conversation holding its pair, else a new one."""

from __future__ import annotations

from services.conversations import render, store
from services.conversations.announce import Change, announce
from services.conversations.domain.models import Conversation, Participant, channel_of
from services.conversations.domain.webhook_fields import conversation_fields, participant_fields
from services.conversations.handlers.conversations import Action
from services.conversations.handlers.messages import add_message
from shared.broker.failures import PermanentFailure
from shared.contracts import conversations as events
from shared.contracts.envelope import Envelope
from shared.contracts.ingress import InboundMessage


class NoAddressConfiguration(PermanentFailure):
    pass


async def receive_inbound_message(
    conn: store.Connection, envelope: Envelope[InboundMessage], *, base: str, timer_scale: float = 1.0
) -> None:
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
    # Messaging participants' actions always fire webhooks (TWILIO-NOTES §1.3).
    action = Action(base=base, source=inbound.channel.upper(), timer_scale=timer_scale,
                    correlation_id=str(envelope.message_id))
    customer = await store.find_bound_participant(
        conn, account_sid=account_sid, address=inbound.from_address, proxy_address=inbound.to_address
    )
    if customer is None:
        conversation, customer = await _auto_create(conn, inbound, account_sid=account_sid, action=action)
    else:
        found = await store.get_conversation(
            conn, account_sid=account_sid, sid_or_unique_name=customer.conversation_sid, for_update=True
        )
        assert found is not None
        conversation = found
    await add_message(
        conn, conversation=conversation, author=inbound.from_address, body=inbound.body, action=action,
        participant_sid=customer.sid, channel_message_sid=inbound.channel_message_sid,
    )


async def _auto_create(
    conn: store.Connection, inbound: InboundMessage, *, account_sid: str, action: Action
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
