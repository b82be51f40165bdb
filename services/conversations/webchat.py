"""Web-chat guests: a `webchat.start` request becomes a conversation on a `chat` address configuration.

The lead registers `consumers(settings)` in the conversations composition root. The answer
(`webchat.started`, with the request's id) leaves through the outbox in the same transaction as the
conversation, so an answer is never announced for a conversation that was rolled back.
"""

from __future__ import annotations

import json
from typing import Any

from services.conversations import store
from services.conversations.handlers.conversations import Action, create_conversation
from services.conversations.handlers.participants import add_participant
from shared.broker.consumer import Consumer
from shared.broker.topology import CONVERSATIONS_WEBCHATS, EVENTS
from shared.contracts.envelope import Envelope, make_envelope
from shared.contracts.webchat import WEB_CHAT_STARTED, StartWebChat, WebChatStarted
from shared.errors import TwilioError
from shared.outbox import add_to_outbox
from shared.settings import Settings


def consumers(settings: Settings) -> list[Consumer]:
    base = settings.external_base_url()

    async def on_start(conn: store.Connection, envelope: Envelope[Any]) -> None:
        await start_web_chat(conn, envelope, base=base, timer_scale=settings.conversation_timer_scale)

    return [Consumer(queue=CONVERSATIONS_WEBCHATS, payload=StartWebChat, handler=on_start)]


async def start_web_chat(conn: store.Connection, envelope: Envelope[StartWebChat], *, base: str,
                         timer_scale: float = 1.0) -> None:
    request = envelope.payload
    account_sid = envelope.account_sid
    if not account_sid:
        # A widget on a web page names only its chat address: the address's account is the one.
        found = await store.find_address_configuration_by_sid(conn, sid=request.address_sid)
        account_sid = found.account_sid if found is not None and found.type == "chat" else ""
    if not account_sid:
        answer = WebChatStarted(request_id=request.request_id, identity=request.identity, error_status=404,
                                error_code=20404, error_message=f"Address configuration {request.address_sid} was not found")
        await add_to_outbox(conn, exchange=EVENTS, envelope=make_envelope(
            WEB_CHAT_STARTED, answer, account_sid="", correlation_id=str(request.request_id)))
        return
    try:
        async with conn.transaction():  # a savepoint: a refused request leaves nothing behind but its answer
            answer = await _create(conn, request, account_sid=account_sid, action=Action(
                base=base, source="SDK", timer_scale=timer_scale, correlation_id=str(envelope.message_id)))
    except TwilioError as error:
        answer = WebChatStarted(request_id=request.request_id, identity=request.identity, error_status=error.status,
                                error_code=error.code, error_message=error.message)
    answer.account_sid = account_sid
    await add_to_outbox(conn, exchange=EVENTS, envelope=make_envelope(
        WEB_CHAT_STARTED, answer, account_sid=account_sid, correlation_id=str(request.request_id)))


async def _create(conn: store.Connection, request: StartWebChat, *, account_sid: str, action: Action) -> WebChatStarted:
    address = await store.get_address_configuration(conn, account_sid=account_sid, sid_or_address=request.address_sid)
    if address is None:
        raise TwilioError(404, 20404, f"Address configuration {request.address_sid} was not found")
    if address.type != "chat":
        raise TwilioError(400, 20001, f"Address configuration {address.sid} is of type {address.type}, not chat")
    service_sid = address.conversation_service_sid or await store.ensure_default_service(conn, account_sid=account_sid)
    attributes: dict[str, Any] = {}
    if request.pre_engagement_data:
        attributes["pre_engagement_data"] = json.loads(request.pre_engagement_data)
    if request.customer_friendly_name:
        attributes["from"] = request.customer_friendly_name
    conversation = await create_conversation(conn, account_sid=account_sid, chat_service_sid=service_sid, values={
        "friendly_name": request.chat_friendly_name or request.customer_friendly_name or request.identity,
        "attributes": json.dumps(attributes),
    }, action=action)
    if address.auto_creation_enabled and address.auto_creation_type == "webhook" and address.webhook_url:
        await store.insert_scoped_webhook(
            conn, account_sid=account_sid, conversation_sid=conversation.sid, target="webhook",
            url=address.webhook_url, method=address.webhook_method or "POST", filters=address.webhook_filters,
            origin="address",
        )
    if address.auto_creation_enabled and address.auto_creation_type == "studio" and address.studio_flow_sid:
        # The guest's first message runs the address's flow (studio_flows.trigger_flow), as Twilio's do.
        await store.insert_scoped_webhook(
            conn, account_sid=account_sid, conversation_sid=conversation.sid, target="studio",
            flow_sid=address.studio_flow_sid, origin="address",
        )
    participant_attributes = {"friendly_name": request.customer_friendly_name} if request.customer_friendly_name else {}
    guest = await add_participant(conn, conversation=conversation, values={
        "identity": request.identity, "attributes": json.dumps(participant_attributes),
    }, action=action)
    return WebChatStarted(request_id=request.request_id, identity=request.identity, conversation_sid=conversation.sid,
                          participant_sid=guest.sid, chat_service_sid=service_sid)
