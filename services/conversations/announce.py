"""Announcing a change: its domain event on the broker and one webhook delivery per matching target.

Targets are the account-level and service-level post-event webhooks and the conversation's own
(scoped, and the one its address configuration attached), each selected by its filters. Both go
through the outbox in the caller's transaction, so nothing is announced for a change that rolls
back and nothing announced is lost after a commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.conversations import store
from services.conversations.domain.targets import Target, account_target, scoped_targets, service_target
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
    previous_state: str | None = None
    reason: str | None = None


async def announce(conn: store.Connection, *, account_sid: str, conversation_sid: str | None, change: Change,
                   correlation_id: str | None = None, chat_service_sid: str | None = None) -> None:
    event = ResourceEvent(resource=change.resource, source=change.source, client_identity=change.client_identity,
                          previous_state=change.previous_state, reason=change.reason)
    await add_to_outbox(
        conn, exchange=EVENTS,
        envelope=make_envelope(change.event, event, account_sid=account_sid, correlation_id=correlation_id),
    )
    if not change.fires_webhooks:
        return
    params = common_fields(change.webhook_event, account_sid=account_sid, source=change.source,
                           client_identity=change.client_identity) + change.fields
    for target in await _targets(conn, account_sid=account_sid, conversation_sid=conversation_sid, change=change,
                                 chat_service_sid=chat_service_sid):
        extra: Fields = [] if target.webhook_sid is None else [
            ("WebhookSid", target.webhook_sid), ("WebhookType", target.webhook_type or "webhook"), ("RetryCount", "0"),
        ]
        delivery = WebhookDelivery(
            event_type=change.webhook_event,
            target=target.level,  # type: ignore[arg-type]
            url=target.url,
            method="GET" if target.method.upper() == "GET" else "POST",
            params=params + extra,
            # Events outside a conversation (onUserAdded…) are about, and ordered by, their own resource.
            resource_sid=conversation_sid or change.resource.get("sid"),
            ordering_key=conversation_sid or change.resource.get("sid"),
        )
        await add_to_outbox(
            conn, exchange=COMMANDS,
            envelope=make_envelope(DELIVER_WEBHOOK, delivery, account_sid=account_sid, correlation_id=correlation_id),
        )


async def _targets(conn: store.Connection, *, account_sid: str, conversation_sid: str | None, change: Change,
                   chat_service_sid: str | None) -> list[Target]:
    name = change.webhook_event
    found: list[Target] = []
    if (account := account_target(await store.get_account_configuration(conn, account_sid=account_sid), name)):
        found.append(account)
    if chat_service_sid is None and conversation_sid is not None:
        chat_service_sid = await conn.fetchval("SELECT chat_service_sid FROM conversations WHERE sid = $1", conversation_sid)
    if chat_service_sid is not None:
        service = service_target(await store.get_service_webhooks(conn, chat_service_sid=chat_service_sid), name)
        if service:
            found.append(service)
    if conversation_sid is None:
        return found
    body = next((value for key, value in change.fields if key == "Body"), None)
    found.extend(scoped_targets(await store.list_scoped_webhooks(conn, conversation_sid=conversation_sid), name, body=body))
    return found

