"""Flows (Studio-like) for conversations of studio-type addresses; the router runs the flow itself.

- A customer's message (its `message.added`, from an SMS/WhatsApp participant whose proxy address is an
  address configuration of AutoCreation.Type studio, or from a web-chat guest whose chat address of that type
  left a studio hook on the conversation) becomes a `flow.message` command for the router.
- The router's `flow.send_message` is posted into the conversation by author `system`; the outbound sends
  deliver it to the customer like any API message.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from services.conversations import store
from services.conversations.handlers.conversations import Action
from services.conversations.handlers.messages import add_message
from shared.broker.consumer import Consumer
from shared.broker.topology import COMMANDS, CONVERSATIONS_FLOW_COMMANDS, CONVERSATIONS_FLOW_TRIGGERS
from shared.contracts.conversations import MESSAGE_ADDED, ResourceEvent
from shared.contracts.envelope import Envelope, make_envelope
from shared.contracts.flows import FLOW_MESSAGE, FlowMessage, FlowSendMessage
from shared.outbox import add_to_outbox
from shared.settings import Settings

log = logging.getLogger(__name__)


async def trigger_flow(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
    if envelope.type != MESSAGE_ADDED:
        return
    message = envelope.payload.resource
    conversation_sid, participant_sid = message.get("conversation_sid"), message.get("participant_sid")
    if not conversation_sid or not participant_sid:
        return
    participant = await store.get_participant(conn, conversation_sid=conversation_sid, sid=participant_sid)
    if participant is None:
        return
    if participant.identity and not participant.address:
        # A chat participant (a web-chat guest): the flow its chat address put on the conversation.
        flow_sid = await _studio_hook_flow(conn, conversation_sid)
        channel_type = "web"
    elif participant.address and participant.proxy_address:
        address = await store.get_address_configuration(conn, account_sid=envelope.account_sid,
                                                        sid_or_address=participant.proxy_address)
        flow_sid = address.studio_flow_sid if address is not None and address.auto_creation_type == "studio" else None
        channel_type = "whatsapp" if participant.binding_type == "whatsapp" else "sms"
    else:
        return
    if not flow_sid:
        return
    command = FlowMessage(conversation_sid=conversation_sid, flow_sid=flow_sid,
                          message_sid=message.get("sid"), participant_sid=participant_sid,
                          author=message.get("author"), body=message.get("body"), channel_type=channel_type)
    await add_to_outbox(conn, exchange=COMMANDS, envelope=make_envelope(
        FLOW_MESSAGE, command, account_sid=envelope.account_sid, correlation_id=str(envelope.message_id)))


async def _studio_hook_flow(conn: asyncpg.Connection, conversation_sid: str) -> str | None:
    """The flow of the conversation's address-made studio hook (web chats get one when they start)."""
    hooks = await store.list_scoped_webhooks(conn, conversation_sid=conversation_sid)
    return next((hook.flow_sid for hook in hooks if hook.target == "studio" and hook.origin == "address"), None)


def studio_flow_consumers(settings: Settings) -> list[Consumer]:
    action = Action(base=settings.external_base_url(), source="API", timer_scale=settings.conversation_timer_scale)

    async def send(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
        command: FlowSendMessage = envelope.payload
        conversation = await store.get_conversation(conn, account_sid=envelope.account_sid,
                                                    sid_or_unique_name=command.conversation_sid, for_update=True)
        if conversation is None or conversation.state == "closed":
            log.warning("flow message not posted: no open conversation",
                        extra={"conversation_sid": command.conversation_sid})
            return
        acting = Action(base=action.base, source=action.source, timer_scale=action.timer_scale,
                        correlation_id=str(envelope.message_id))
        await add_message(conn, conversation=conversation, author=command.author, body=command.body, action=acting)

    return [
        Consumer(queue=CONVERSATIONS_FLOW_TRIGGERS, payload=ResourceEvent, handler=trigger_flow),
        Consumer(queue=CONVERSATIONS_FLOW_COMMANDS, payload=FlowSendMessage, handler=send,
                 sequence_by=lambda envelope: envelope.payload.conversation_sid),
    ]
