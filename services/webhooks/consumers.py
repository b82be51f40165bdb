"""What the webhooks service consumes: queue → handler."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Mapping
from typing import Any

from services.webhooks import handlers, store
from services.webhooks.domain.dead_letters import REPLAY_HEADER
from shared.broker.consumer import Consumer, RawConsumer, dead_letter_dedupe_key
from shared.broker.topology import WEBHOOKS_DEAD_LETTERS, WEBHOOKS_DELIVERIES, WEBHOOKS_FAILURES
from shared.contracts.envelope import Envelope
from shared.contracts.fabric import ConsumerFailed
from shared.contracts.webhooks import WebhookDelivery
from shared.settings import Settings


def ordering_chain(envelope: Envelope[Any]) -> Hashable | None:
    """Deliveries of one ordering key to one URL are stored in the order they arrived."""
    command: WebhookDelivery = envelope.payload
    return (command.ordering_key, command.url) if command.ordering_key else None


def dead_letter_key(body: bytes, headers: Mapping[str, Any], message_id: str | None) -> uuid.UUID:
    """The fabric's key per dead-lettering, told apart also by the replay the message came from."""
    key = dead_letter_dedupe_key(body, headers, message_id)
    replay_of = headers.get(REPLAY_HEADER)
    return uuid.uuid5(key, str(replay_of)) if replay_of else key


def consumers(settings: Settings) -> list[Consumer]:
    broker_prefix = settings.broker_prefix

    async def on_dead_letter(conn: store.Connection, body: bytes, headers: dict[str, Any], message_id: str | None) -> None:
        await handlers.record_dead_letter(conn, body=body, headers=headers, message_id=message_id,
                                          key=dead_letter_key(body, headers, message_id), broker_prefix=broker_prefix)

    return [
        Consumer(queue=WEBHOOKS_DELIVERIES, payload=WebhookDelivery, handler=handlers.accept_delivery,
                 sequence_by=ordering_chain),
        RawConsumer(queue=WEBHOOKS_DEAD_LETTERS, raw_handler=on_dead_letter, dedupe_key=dead_letter_key),
        Consumer(queue=WEBHOOKS_FAILURES, payload=ConsumerFailed, handler=handlers.record_consumer_failure),
    ]
