"""Announcing a change: its domain event on the broker and one webhook delivery per matching target.

Both go through the outbox in the caller's transaction, so nothing is announced for a change
that rolls back and nothing announced is lost after a commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.conversations import store
from services.conversations.domain.webhook_fields import Fields, common_fields
from shared.broker.topology import COMMANDS, EVENTS
from shared.contracts.conversations import ResourceEvent
from shared.contracts.envelope import make_envelope
from shared.contracts.webhooks import DELIVER_WEBHOOK, WebhookDelivery
from shared.outbox import add_to_outbox


@dataclass(frozen=True)
class Change:
    """One change to announce: the broker event and, for webhooks, Twilio's event name and fields."""

    event: str  # broker routing key, e.g. message.added
    webhook_event: str  # Twilio's name, e.g. onMessageAdded
    resource: dict[str, Any]
    fields: Fields
    source: str  # API, SDK, SMS, WHATSAPP
    client_identity: str | None = None
    fires_webhooks: bool = True  # REST actions fire webhooks only when asked (X-Twilio-Webhook-Enabled)


async def announce(conn: store.Connection, *, account_sid: str, conversation_sid: str, change: Change,
                   correlation_id: str | None = None) -> None:
    event = ResourceEvent(resource=change.resource, source=change.source, client_identity=change.client_identity)
    await add_to_outbox(
        conn, exchange=EVENTS,
        envelope=make_envelope(change.event, event, account_sid=account_sid, correlation_id=correlation_id),
    )
    if not change.fires_webhooks:
        return
    params = common_fields(change.webhook_event, account_sid=account_sid, source=change.source,
                           client_identity=change.client_identity) + change.fields
    for webhook in await store.list_scoped_webhooks(conn, conversation_sid=conversation_sid):
        if webhook.target != "webhook" or not webhook.url or change.webhook_event not in webhook.filters:
            continue
        extra: Fields = [] if webhook.origin == "address" else [
            ("WebhookSid", webhook.sid), ("WebhookType", webhook.target), ("RetryCount", "0"),
        ]
        delivery = WebhookDelivery(
            event_type=change.webhook_event,
            target="address" if webhook.origin == "address" else "conversation",
            url=webhook.url,
            method="GET" if webhook.method == "GET" else "POST",
            params=params + extra,
            resource_sid=conversation_sid,
            ordering_key=conversation_sid,
        )
        await add_to_outbox(
            conn, exchange=COMMANDS,
            envelope=make_envelope(DELIVER_WEBHOOK, delivery, account_sid=account_sid, correlation_id=correlation_id),
        )
