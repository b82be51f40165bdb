"""An agent's (or the API's) message goes out to the conversation's SMS/WhatsApp participants.

Consumes the service's own `message.added` events: for a message not written by an SMS/WhatsApp
participant, one `channel.send` command per SMS/WhatsApp participant, through the outbox. A message a
customer sent by SMS is not echoed back.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from services.conversations import store
from shared.broker.consumer import Consumer
from shared.broker.topology import COMMANDS, CONVERSATIONS_OUTBOUND_SENDS
from shared.contracts.channels import SEND_MESSAGE, OutboundMedia, OutboundMessage
from shared.contracts.conversations import MESSAGE_ADDED, ResourceEvent
from shared.contracts.envelope import Envelope, make_envelope
from shared.outbox import add_to_outbox

MESSAGING = ("sms", "whatsapp")


def outbound_sends_consumer() -> Consumer:
    return Consumer(queue=CONVERSATIONS_OUTBOUND_SENDS, payload=ResourceEvent, handler=send_to_messaging_participants)


async def send_to_messaging_participants(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
    if envelope.type != MESSAGE_ADDED:
        return
    message = envelope.payload.resource
    conversation_sid = message.get("conversation_sid")
    if not conversation_sid:
        return
    participants = await store.list_participants(conn, conversation_sid=conversation_sid, after=None, limit=1000)
    recipients = [participant for participant in participants
                  if participant.binding_type in MESSAGING and participant.address and participant.proxy_address]
    author = message.get("author")
    if any(participant.sid == message.get("participant_sid") or participant.address == author
           for participant in recipients):
        return  # the customer wrote it on their channel: nothing to send back
    media = [OutboundMedia(media_sid=item.get("sid"), content_type=str(item.get("content_type") or
                                                                       "application/octet-stream"),
                           filename=item.get("filename"), size=item.get("size"))
             for item in (message.get("media") or []) if isinstance(item, dict)]
    for participant in recipients:
        command = OutboundMessage(
            conversation_sid=conversation_sid, message_sid=message["sid"], participant_sid=participant.sid,
            channel=participant.binding_type,  # type: ignore[arg-type]
            from_address=participant.proxy_address, to_address=participant.address,  # type: ignore[arg-type]
            body=message.get("body") or "", media=media, content_sid=message.get("content_sid"),
        )
        await add_to_outbox(conn, exchange=COMMANDS, envelope=make_envelope(
            SEND_MESSAGE, command, account_sid=envelope.account_sid, correlation_id=message["sid"]))
