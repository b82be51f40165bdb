"""Flows (Studio-like) for conversations of studio-type addresses; the router runs the flow itself.

- A customer's message (its `message.added`) becomes a `flow.message` command for the router when a flow
  handles its conversation: a scoped studio webhook (a Web Channel's), a studio-type address configuration
  of the customer's proxy address, or — with no address configuration — the Flex Flow answering that address.
- The router's `flow.send_message` is posted into the conversation by author `system`; the outbound sends
  deliver it to the customer like any API message.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from services.conversations import store
from services.conversations.flex_flow_addresses import flex_flow_for
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
        return  # the system's and the API's own messages never start a flow
    participant = await store.get_participant(conn, conversation_sid=conversation_sid, sid=participant_sid)
    if participant is None:
        return
    flow_sid = await _flow_of(conn, envelope.account_sid, conversation_sid, participant)
    if flow_sid is None:
        return
    command = FlowMessage(conversation_sid=conversation_sid, flow_sid=flow_sid,
                          message_sid=message.get("sid"), participant_sid=participant_sid,
                          author=message.get("author"), body=message.get("body"),
                          channel_type=_channel_type(participant.binding_type))
    await add_to_outbox(conn, exchange=COMMANDS, envelope=make_envelope(
        FLOW_MESSAGE, command, account_sid=envelope.account_sid, correlation_id=str(envelope.message_id)))


async def _flow_of(conn: asyncpg.Connection, account_sid: str, conversation_sid: str, participant: Any) -> str | None:
    """What runs on a customer's message: the conversation's studio webhook (FW…, e.g. a Web Channel's), else for
    a messaging customer the studio address configuration's flow (FW…), else the answering Flex Flow (FO…)."""
    for hook in await store.list_scoped_webhooks(conn, conversation_sid=conversation_sid):
        if hook.target == "studio" and hook.flow_sid:
            return str(hook.flow_sid)
    if not participant.address or not participant.proxy_address:
        return None
    address = await store.get_address_configuration(conn, account_sid=account_sid,
                                                    sid_or_address=participant.proxy_address)
    if address is not None:
        studio = address.auto_creation_type == "studio" and address.studio_flow_sid
        return str(address.studio_flow_sid) if studio else None
    flex_flow = await flex_flow_for(conn, account_sid=account_sid, address=participant.proxy_address)
    # An external Flex Flow's webhook has the conversation's messages; nothing runs in the router.
    return flex_flow.flex_flow_sid if flex_flow is not None and not flex_flow.webhook_url else None


def _channel_type(binding_type: str | None) -> str:
    return {"whatsapp": "whatsapp", "sms": "sms"}.get(binding_type or "", "web")


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
