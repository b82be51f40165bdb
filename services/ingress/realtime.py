"""The realtime hub of one ingress replica: which connected clients see which conversation, and fan-out.

Events reach every replica through its own queue (EventFeed); the hub forwards each one to the clients
here that participate in its conversation. A client resuming from a message index first gets the log's
events after it, then the live ones it buffered meanwhile, without the ones the log already gave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import ValidationError

from services.ingress import store
from shared.broker.connection import Broker
from shared.broker.topology import EVENTS
from shared.contracts.envelope import make_envelope
from shared.contracts.realtime import (
    READ_HORIZON,
    REALTIME_EVENT,
    TYPING,
    ReadHorizonUpdate,
    RealtimeEvent,
    TypingIndicator,
)

log = logging.getLogger(__name__)

# A client that lets this many messages pile up is too slow to keep; it reconnects and resumes.
MAX_QUEUED_PER_CLIENT = 1000
MAX_REPLAYED = 5000
CLOSE_UNAUTHORIZED = 4001  # a token refused: at the handshake or first message, or revoked later


@dataclass(frozen=True)
class Closing:
    """Tells the connection's writer to send `message` (an error), then close with `code`."""

    code: int
    message: dict[str, Any]


class Client:
    """One WebSocket connection: its identity, its conversations and what waits to be sent to it."""

    def __init__(self, *, account_sid: str, identity: str) -> None:
        self.id = uuid.uuid4().hex
        self.account_sid = account_sid
        self.identity = identity
        self.conversations: set[str] = set()
        # None: fell too far behind (the writer closes the connection); Closing: closed for a reason.
        self.outbox: asyncio.Queue[dict[str, Any] | Closing | None] = asyncio.Queue(MAX_QUEUED_PER_CLIENT)
        self._buffer: list[dict[str, Any]] | None = []  # live events held while resuming; None once live
        self._replayed: set[int] = set()  # log ids sent from the log, never to be sent again
        self.overflowed = False

    def deliver(self, message: dict[str, Any]) -> None:
        log_id = message.get("log_id")
        if log_id is not None and log_id in self._replayed and not message.get("replayed"):
            return  # its announcement came after the log had already given it
        if self._buffer is not None:
            self._buffer.append(message)
            return
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
            self._put_last(None)  # tells the writer to close the connection

    def close(self, closing: Closing) -> None:
        """Close the connection after what is already queued (even while it is still resuming)."""
        try:
            self.outbox.put_nowait(closing)
        except asyncio.QueueFull:
            self._put_last(closing)

    def _put_last(self, item: Closing | None) -> None:
        with contextlib.suppress(asyncio.QueueEmpty):
            self.outbox.get_nowait()
        self.outbox.put_nowait(item)

    def go_live(self, replayed: list[dict[str, Any]]) -> None:
        """Send the log's events, then the buffered live ones the log did not already include."""
        assert self._buffer is not None
        held, self._buffer = self._buffer, None
        for message in replayed:
            self.deliver(message)
        self._replayed = {message["log_id"] for message in replayed}
        for message in held:
            self.deliver(message)


class RealtimeHub:
    def __init__(self, pool: asyncpg.Pool, broker: Broker) -> None:
        self._pool = pool
        self._broker = broker
        self._by_identity: dict[tuple[str, str], set[Client]] = defaultdict(set)
        self._by_conversation: dict[tuple[str, str], set[Client]] = defaultdict(set)

    async def connect(self, client: Client, *, resume_from: Mapping[str, int] | int | None) -> list[str]:
        """Register the client (live events buffer from here), learn its conversations, replay what it missed."""
        self._by_identity[(client.account_sid, client.identity)].add(client)
        conversations = await store.list_member_conversations(self._pool, account_sid=client.account_sid,
                                                                identity=client.identity)
        for conversation_sid in conversations:
            self._join(client, conversation_sid)
        replayed: list[dict[str, Any]] = []
        if resume_from is not None:
            after = ({sid: resume_from for sid in client.conversations} if isinstance(resume_from, int)
                     else {sid: index for sid, index in resume_from.items() if sid in client.conversations})
            if after:
                rows = await store.list_logged_events(self._pool, account_sid=client.account_sid, after=after,
                                                      limit=MAX_REPLAYED)
                replayed = [event_message(RealtimeEvent(
                    conversation_sid=row["conversation_sid"], event_type=row["type"], resource=row["resource"],
                    message_index=row["message_index"], log_id=row["id"]), replayed=True) for row in rows]
        client.go_live(replayed)
        return sorted(client.conversations)

    def disconnect(self, client: Client) -> None:
        self._by_identity[(client.account_sid, client.identity)].discard(client)
        if not self._by_identity[(client.account_sid, client.identity)]:
            del self._by_identity[(client.account_sid, client.identity)]
        for conversation_sid in list(client.conversations):
            self._leave(client, conversation_sid)

    def _join(self, client: Client, conversation_sid: str) -> None:
        client.conversations.add(conversation_sid)
        self._by_conversation[(client.account_sid, conversation_sid)].add(client)

    def _leave(self, client: Client, conversation_sid: str) -> None:
        client.conversations.discard(conversation_sid)
        key = (client.account_sid, conversation_sid)
        self._by_conversation[key].discard(client)
        if not self._by_conversation[key]:
            del self._by_conversation[key]

    def _members(self, account_sid: str, conversation_sid: str) -> list[Client]:
        return list(self._by_conversation.get((account_sid, conversation_sid), ()))

    # --- From the broker, to the clients ---

    async def on_event(self, envelope: dict[str, Any]) -> None:
        kind = envelope.get("type")
        account_sid = envelope.get("account_sid")
        if not isinstance(account_sid, str) or kind not in (REALTIME_EVENT, TYPING, READ_HORIZON):
            return
        try:
            if kind == REALTIME_EVENT:
                self._fan_out_event(account_sid, RealtimeEvent.model_validate(envelope.get("payload")))
            elif kind == TYPING:
                typing = TypingIndicator.model_validate(envelope.get("payload"))
                self._fan_out(account_sid, typing.conversation_sid, {
                    "type": "typing", "conversation_sid": typing.conversation_sid, "identity": typing.identity,
                }, skip=typing.origin)
            else:
                read = ReadHorizonUpdate.model_validate(envelope.get("payload"))
                self._fan_out(account_sid, read.conversation_sid, {
                    "type": "read_horizon", "conversation_sid": read.conversation_sid, "identity": read.identity,
                    "last_read_message_index": read.last_read_message_index,
                }, skip=read.origin)
        except ValidationError as error:
            log.warning("unreadable realtime message skipped: %s", error)

    def _fan_out_event(self, account_sid: str, event: RealtimeEvent) -> None:
        if event.event_type == "participant.added" and event.identity:
            for client in self._by_identity.get((account_sid, event.identity), ()):
                self._join(client, event.conversation_sid)
        self._fan_out(account_sid, event.conversation_sid, event_message(event))
        if event.event_type == "participant.removed" and event.identity:
            for client in self._by_identity.get((account_sid, event.identity), ()):
                self._leave(client, event.conversation_sid)

    def send_to_conversation(self, account_sid: str, conversation_sid: str, message: dict[str, Any]) -> None:
        """To every client here that participates in the conversation (e.g. supervisor_feed's updates)."""
        self._fan_out(account_sid, conversation_sid, message)

    def _fan_out(self, account_sid: str, conversation_sid: str, message: dict[str, Any], *,
                 skip: str | None = None) -> None:
        for client in self._members(account_sid, conversation_sid):
            if client.id != skip:
                client.deliver(message)

    # --- From a client, to the broker ---

    async def typing(self, client: Client, conversation_sid: str) -> None:
        indicator = TypingIndicator(conversation_sid=conversation_sid, identity=client.identity, origin=client.id)
        await self._announce(TYPING, indicator, client)

    async def read_horizon(self, client: Client, conversation_sid: str, index: int) -> None:
        update = ReadHorizonUpdate(conversation_sid=conversation_sid, identity=client.identity,
                                   last_read_message_index=index, origin=client.id)
        await self._announce(READ_HORIZON, update, client)

    async def _announce(self, type_: str, payload: TypingIndicator | ReadHorizonUpdate, client: Client) -> None:
        envelope = make_envelope(type_, payload, account_sid=client.account_sid, correlation_id=client.id)
        await self._broker.publish(EVENTS, type_, envelope.to_bytes(), message_id=str(envelope.message_id))


def event_message(event: RealtimeEvent, *, replayed: bool = False) -> dict[str, Any]:
    """What a client receives for a conversation event."""
    message: dict[str, Any] = {"type": event.event_type, "conversation_sid": event.conversation_sid,
                               "resource": event.resource}
    if event.message_index is not None:
        message["index"] = event.message_index
    if event.log_id is not None:
        message["log_id"] = event.log_id
    if replayed:
        message["replayed"] = True
    return message


LOG_RETENTION_SECONDS = 24 * 3600
PRUNE_EVERY_SECONDS = 300.0


async def prune_log_forever(pool: asyncpg.Pool) -> None:
    """The resume log keeps a day; older history is the conversations REST API's."""
    while True:
        pruned = await store.prune_logged_events(pool, older_than_seconds=LOG_RETENTION_SECONDS)
        if pruned:
            log.info("pruned %d realtime log events", pruned)
        await asyncio.sleep(PRUNE_EVERY_SECONDS)
