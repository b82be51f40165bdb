"""Scoped webhook use cases: attaching one, and replaying the messages it arrived too late for."""

from __future__ import annotations

from typing import Any

from services.conversations import store
from services.conversations.domain.models import Conversation, ScopedWebhook
from services.conversations.domain.targets import scoped_targets
from services.conversations.domain.webhook_fields import common_fields, message_fields
from shared.broker.topology import COMMANDS
from shared.contracts.envelope import make_envelope
from shared.contracts.webhooks import DELIVER_WEBHOOK, WebhookDelivery
from shared.outbox import add_to_outbox

_REPLAY_LIMIT = 1000


async def add_scoped_webhook(
    conn: store.Connection, *, conversation: Conversation, target: str, values: dict[str, Any],
    replay_after: int | None,
) -> ScopedWebhook:
    webhook = await store.insert_scoped_webhook(
        conn, account_sid=conversation.account_sid, conversation_sid=conversation.sid, target=target,
        replay_after=replay_after, **values,
    )
    if replay_after is not None:
        await _replay_messages(conn, conversation=conversation, webhook=webhook, after=replay_after)
    return webhook


async def _replay_messages(
    conn: store.Connection, *, conversation: Conversation, webhook: ScopedWebhook, after: int
) -> None:
    """A bot attached after messages arrived still hears them: onMessageAdded for each later index, in order."""
    messages = await store.list_messages(conn, conversation_sid=conversation.sid, after=after, before=None,
                                         limit=_REPLAY_LIMIT, descending=False)
    for message in messages:
        for target in scoped_targets([webhook], "onMessageAdded", body=message.body):
            params = common_fields("onMessageAdded", account_sid=conversation.account_sid, source="API",
                                   client_identity=None) + message_fields(message, conversation)
            params += [("WebhookSid", webhook.sid), ("WebhookType", webhook.target), ("RetryCount", "0")]
            delivery = WebhookDelivery(
                event_type="onMessageAdded", target="conversation", url=target.url,
                method="GET" if target.method == "GET" else "POST", params=params, resource_sid=conversation.sid,
                ordering_key=conversation.sid,
            )
            await add_to_outbox(conn, exchange=COMMANDS, envelope=make_envelope(
                DELIVER_WEBHOOK, delivery, account_sid=conversation.account_sid,
            ))
