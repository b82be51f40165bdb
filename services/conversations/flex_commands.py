"""What the router's Flex Interactions ask of conversations: adopt or create an interaction's conversation (RPC),
add or remove an agent, close the conversation (commands).

`with_flex_commands(build)` wraps the service's composition root, so registering is one line in `app.py`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from services.conversations import store
from services.conversations.domain.models import Conversation, Participant, channel_of
from services.conversations.handlers.conversations import Action, change_state, create_conversation
from services.conversations.handlers.participants import add_participant, remove_participant
from shared.broker.consumer import Consumer
from shared.broker.topology import CONVERSATIONS_FLEX_COMMANDS, CONVERSATIONS_FLEX_REQUESTS
from shared.contracts.envelope import Envelope
from shared.contracts.flex import (
    ADD_AGENT,
    CLOSE_CONVERSATION,
    CONVERSATION_PREPARED,
    REMOVE_AGENT,
    AgentParticipant,
    ConversationPrepared,
    PrepareConversation,
)
from shared.errors import TwilioError
from shared.rpc import RpcServer
from shared.runtime import ServiceContext
from shared.settings import Settings

log = logging.getLogger(__name__)


def flex_requests_server(context: ServiceContext) -> RpcServer:
    """Answers the router's Flex Interactions: create or adopt the conversation an interaction is about."""
    return RpcServer(context.broker, queue=CONVERSATIONS_FLEX_REQUESTS, payload=PrepareConversation,
                     reply_type=CONVERSATION_PREPARED, handler=prepare_handler(context),
                     prefetch=context.settings.prefetch)


def prepare_handler(context: ServiceContext) -> Callable[[Envelope[Any]], Any]:
    pool = context.pool
    action = Action(base=context.settings.external_base_url(), source="API",
                    timer_scale=context.settings.conversation_timer_scale)

    async def answer(envelope: Envelope[PrepareConversation]) -> ConversationPrepared:
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await prepare_conversation(conn, envelope.payload, account_sid=envelope.account_sid,
                                                  action=action)
        except TwilioError as error:
            return ConversationPrepared(error_status=error.status, error_code=error.code, error_message=error.message)

    return answer


async def prepare_conversation(conn: store.Connection, request: PrepareConversation, *, account_sid: str,
                               action: Action) -> ConversationPrepared:
    if request.media_channel_sid is not None:
        conversation = await store.get_conversation(conn, account_sid=account_sid,
                                                    sid_or_unique_name=request.media_channel_sid)
        if conversation is None:
            raise TwilioError(400, 20001, f"Conversation {request.media_channel_sid} was not found")
        if conversation.state == "closed":
            raise TwilioError(400, 50377, f"Conversation {conversation.sid} is closed")
        customer = await _customer_of(conn, conversation)
    else:
        service_sid = await _service_for(conn, account_sid=account_sid, wanted=request.chat_service_sid)
        first = request.participants[0] if request.participants else None
        values: dict[str, Any] = {
            "friendly_name": request.friendly_name or (first.name or first.address or first.identity if first else None),
        }
        if request.unique_name:
            values["unique_name"] = request.unique_name
        if request.attributes:
            values["attributes"] = request.attributes
        try:
            async with conn.transaction():  # a savepoint, so a taken unique name is an answer, not a broken request
                conversation = await create_conversation(conn, account_sid=account_sid, chat_service_sid=service_sid,
                                                         values=values, action=action)
        except asyncpg.UniqueViolationError as error:
            raise TwilioError(409, 50353, f"Conversation with unique name {request.unique_name} already exists") \
                from error
        await _attach_handlers(conn, request, account_sid=account_sid, conversation_sid=conversation.sid)
        customer = None
        for entry in request.participants:
            attributes = json.dumps({"friendly_name": entry.name} if entry.name else {})
            if entry.address is not None and entry.proxy_address is not None:
                values = {"binding_type": channel_of(entry.address), "address": entry.address,
                                          "proxy_address": entry.proxy_address, "attributes": attributes}
            else:
                values = {"identity": entry.identity, "binding_type": "chat", "attributes": attributes}
            added = await add_participant(conn, conversation=conversation, values=values, action=action)
            customer = customer or added
    name = None
    if customer is not None:
        name = _attribute(customer.attributes, "friendly_name")
    return ConversationPrepared(
        conversation_sid=conversation.sid, chat_service_sid=conversation.chat_service_sid,
        customer_address=(customer.address or customer.identity) if customer else None, customer_name=name,
        proxy_address=customer.proxy_address if customer else None,
    )


async def _service_for(conn: store.Connection, *, account_sid: str, wanted: str | None) -> str:
    """The service asked for when the account has it, else the default one (a Flex Flow may name a Twilio service
    that Parley does not have)."""
    if wanted and await store.service_exists(conn, account_sid=account_sid, sid=wanted):
        return wanted
    return await store.ensure_default_service(conn, account_sid=account_sid)


async def _attach_handlers(conn: store.Connection, request: PrepareConversation, *, account_sid: str,
                           conversation_sid: str) -> None:
    """What handles the new conversation's messages: a flow (scoped studio webhook) or a URL (scoped webhook)."""
    if request.studio_flow_sid:
        await store.insert_scoped_webhook(conn, account_sid=account_sid, conversation_sid=conversation_sid,
                                          target="studio", flow_sid=request.studio_flow_sid, origin="address")
    if request.webhook_url:
        await store.insert_scoped_webhook(conn, account_sid=account_sid, conversation_sid=conversation_sid,
                                          target="webhook", url=request.webhook_url, method="POST",
                                          filters=["onMessageAdded"], origin="address")


async def _customer_of(conn: store.Connection, conversation: Conversation) -> Participant | None:
    """The first messaging participant, else the first participant at all."""
    participants = await store.list_participants(conn, conversation_sid=conversation.sid, after=None, limit=50)
    messaging = [participant for participant in participants if participant.address]
    return (messaging or participants or [None])[0]


def _attribute(text: str, name: str) -> str | None:
    try:
        value = json.loads(text).get(name)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def flex_consumer(settings: Settings) -> Consumer:
    action = Action(base=settings.external_base_url(), source="API", timer_scale=settings.conversation_timer_scale)

    async def on_command(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
        await carry_out(conn, envelope, action=action)

    return Consumer(queue=CONVERSATIONS_FLEX_COMMANDS, payload=_Command, handler=on_command,
                    sequence_by=lambda envelope: envelope.payload.conversation_sid)


class _Command(AgentParticipant):
    """Any of the commands: each carries `conversation_sid`; the agent ones an identity too."""

    identity: str = ""


async def carry_out(conn: store.Connection, envelope: Envelope[Any], *, action: Action) -> None:
    command = envelope.payload
    conversation = await store.get_conversation(conn, account_sid=envelope.account_sid,
                                                sid_or_unique_name=command.conversation_sid, for_update=True)
    if conversation is None:
        log.warning("flex command for a missing conversation", extra={"conversation_sid": command.conversation_sid})
        return
    acting = Action(base=action.base, source=action.source, timer_scale=action.timer_scale,
                    correlation_id=str(envelope.message_id))
    if envelope.type == ADD_AGENT:
        await _add_agent(conn, conversation, AgentParticipant.model_validate(command.model_dump()), acting)
    elif envelope.type == REMOVE_AGENT:
        present = await store.get_participant(conn, conversation_sid=conversation.sid, sid=command.identity)
        if present is not None and present.identity == command.identity:
            await remove_participant(conn, conversation=conversation, participant=present, action=acting)
    elif envelope.type == CLOSE_CONVERSATION:
        if conversation.state != "closed":
            await change_state(conn, conversation=conversation, state="closed", reason="API", action=acting)


async def _add_agent(conn: store.Connection, conversation: Conversation, command: AgentParticipant,
                     action: Action) -> None:
    if conversation.state == "closed":
        log.warning("agent not added: the conversation is closed", extra={"conversation_sid": conversation.sid})
        return
    present = await store.get_participant(conn, conversation_sid=conversation.sid, sid=command.identity)
    if present is not None and present.identity == command.identity:
        return  # a redelivered or repeated add: the agent is in already
    attributes = {"member_type": "agent", "friendly_name": command.friendly_name or command.identity}
    if command.interaction_sid:
        attributes["interaction_sid"] = command.interaction_sid
    await add_participant(conn, conversation=conversation, values={
        "identity": command.identity, "binding_type": "chat", "attributes": json.dumps(attributes),
    }, action=action)
