"""An agent's (or the API's) message goes out to the conversation's SMS/WhatsApp participants.

Consumes the service's own `message.added` events: for a message not written by an SMS/WhatsApp
participant, one `channel.send` command per SMS/WhatsApp participant, through the outbox. A message a
customer sent by SMS is not echoed back.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from services.conversations import media_links, store
from services.conversations.domain.identity import Media
from services.conversations.store import media as media_store
from shared.auth.accounts import AccountDirectory
from shared.broker.consumer import Consumer
from shared.broker.topology import COMMANDS, CONVERSATIONS_OUTBOUND_SENDS
from shared.contracts.channels import SEND_MESSAGE, OutboundMedia, OutboundMessage
from shared.contracts.conversations import MESSAGE_ADDED, ResourceEvent
from shared.contracts.envelope import Envelope, make_envelope
from shared.outbox import add_to_outbox

MESSAGING = ("sms", "whatsapp")


class MediaLinks:
    """Signed temporary download URLs for a message's media, valid for the whole send retry budget: the provider
    fetches each file by URL, maybe only on the last attempt. Signed with the account's auth token, like
    `links.content_direct_temporary`, so a token rotated meanwhile makes them invalid."""

    def __init__(self, base: str, accounts: AccountDirectory, *, lifetime_seconds: float) -> None:
        self._base = base
        self._accounts = accounts
        self._lifetime = lifetime_seconds

    async def url(self, account_sid: str, media: Media) -> str | None:
        account = await self._accounts.get(account_sid)
        if account is None:
            return None
        return media_links.temporary_url(self._base, media, account.auth_token, lifetime_seconds=self._lifetime)


def outbound_sends_consumer(links: MediaLinks | None = None) -> Consumer:
    async def handle(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
        await send_to_messaging_participants(conn, envelope, links=links)

    return Consumer(queue=CONVERSATIONS_OUTBOUND_SENDS, payload=ResourceEvent, handler=handle)


async def send_to_messaging_participants(conn: asyncpg.Connection, envelope: Envelope[Any], *,
                                         links: MediaLinks | None = None) -> None:
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
    if media and links is not None:
        stored = {item.sid: item for item in
                  (await media_store.media_of_messages(conn, message_sids=[message["sid"]])).get(message["sid"], [])}
        for item in media:
            found = stored.get(item.media_sid or "")
            if found is not None:
                item.url = await links.url(envelope.account_sid, found)
                item.blob_key = found.blob_key
    for participant in recipients:
        command = OutboundMessage(
            conversation_sid=conversation_sid, message_sid=message["sid"], participant_sid=participant.sid,
            channel=participant.binding_type,  # type: ignore[arg-type]
            from_address=participant.proxy_address, to_address=participant.address,  # type: ignore[arg-type]
            body=message.get("body") or "", media=media, content_sid=message.get("content_sid"),
        )
        await add_to_outbox(conn, exchange=COMMANDS, envelope=make_envelope(
            SEND_MESSAGE, command, account_sid=envelope.account_sid, correlation_id=message["sid"]))
