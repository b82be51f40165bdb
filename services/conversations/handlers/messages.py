"""Message use cases: post (reactivating an inactive conversation, restarting its timers), edit, remove, receipts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from services.conversations import render, store
from services.conversations.announce import Change, announce
from services.conversations.domain.identity import Media, media_summary
from services.conversations.domain.models import Conversation, Message, Receipt
from services.conversations.domain.webhook_fields import message_fields, receipt_fields, removed
from services.conversations.handlers.conversations import Action, closed_error, reactivate
from services.conversations.store import media as media_store
from shared.contracts import conversations as events
from shared.contracts.channels import DeliveryReceiptReport
from shared.contracts.envelope import Envelope


async def add_message(
    conn: store.Connection, *, conversation: Conversation, author: str, body: str | None, action: Action,
    participant_sid: str | None = None, values: dict[str, Any] | None = None, channel_message_sid: str | None = None,
    media: Sequence[Media] = (),
) -> tuple[Conversation, Message]:
    """The next index, the row, a wake-up for an inactive conversation, timers from now, onMessageAdded."""
    if conversation.state == "closed":
        raise closed_error(conversation)
    conversation = await reactivate(conn, conversation=conversation, action=action)
    index = await store.next_message_index(conn, conversation_sid=conversation.sid)
    message = await store.insert_message(
        conn, account_sid=conversation.account_sid, conversation_sid=conversation.sid, index=index, author=author,
        body=body, participant_sid=participant_sid, channel_message_sid=channel_message_sid, **(values or {}),
    )
    if media:
        await media_store.attach_media(conn, message_sid=message.sid, media=list(media))
        message = replace(message, media=[media_summary(item) for item in media])
    await store.restart_timers(conn, sid=conversation.sid, scale=action.timer_scale)
    await announce(conn, account_sid=conversation.account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.MESSAGE_ADDED, webhook_event="onMessageAdded",
        resource=render.message(message, render.Root(action.base)),
        fields=message_fields(message, conversation),
        source=action.source, client_identity=action.client_identity, fires_webhooks=action.webhooks,
    ), chat_service_sid=conversation.chat_service_sid, correlation_id=action.correlation_id)
    return conversation, message


async def with_media(conn: store.Connection, message: Message) -> Message:
    attached = await media_store.media_of_messages(conn, message_sids=[message.sid])
    return replace(message, media=[media_summary(item) for item in attached.get(message.sid, [])])


async def update_message(
    conn: store.Connection, *, conversation: Conversation, message: Message, values: dict[str, Any], action: Action
) -> Message:
    if not values:
        return message
    updated = await with_media(conn, await store.update_message(conn, sid=message.sid, values=values))
    await announce(conn, account_sid=conversation.account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.MESSAGE_UPDATED, webhook_event="onMessageUpdated",
        resource=render.message(updated, render.Root(action.base)),
        fields=message_fields(updated, conversation),
        source=action.source, client_identity=action.client_identity, fires_webhooks=action.webhooks,
    ), chat_service_sid=conversation.chat_service_sid, correlation_id=action.correlation_id)
    return updated


async def remove_message(conn: store.Connection, *, conversation: Conversation, message: Message, action: Action) -> None:
    await store.delete_message(conn, sid=message.sid)
    await announce(conn, account_sid=conversation.account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.MESSAGE_REMOVED, webhook_event="onMessageRemoved",
        resource=render.message(message, render.Root(action.base)),
        fields=removed(message_fields(message, conversation), datetime.now(UTC)),
        source=action.source, client_identity=action.client_identity,
        fires_webhooks=action.webhooks,
    ), chat_service_sid=conversation.chat_service_sid, correlation_id=action.correlation_id)


async def receive_receipt_report(
    conn: store.Connection, envelope: Envelope[DeliveryReceiptReport], *, base: str
) -> None:
    """A provider's report on one send, from the channel edge; unknown messages (deleted since) are ignored."""
    report = envelope.payload
    conversation = await store.get_conversation(conn, account_sid=envelope.account_sid,
                                                sid_or_unique_name=report.conversation_sid)
    message = await store.get_message(conn, conversation_sid=report.conversation_sid, sid_or_index=report.message_sid)
    if conversation is None or message is None:
        return
    await record_receipt(
        conn, conversation=conversation, message=message, participant_sid=report.participant_sid,
        channel_message_sid=report.channel_message_sid, status=report.status, error_code=report.error_code,
        action=Action(base=base, source="API", webhooks=True, correlation_id=str(envelope.message_id)),
    )


async def record_receipt(
    conn: store.Connection, *, conversation: Conversation, message: Message, participant_sid: str | None,
    channel_message_sid: str | None, status: str, error_code: int, action: Action,
) -> Receipt:
    """A provider's status report for one recipient; a changed status is announced as onDeliveryUpdated."""
    receipt, changed = await store.upsert_receipt(
        conn, account_sid=conversation.account_sid, conversation_sid=conversation.sid, message_sid=message.sid,
        participant_sid=participant_sid, channel_message_sid=channel_message_sid, status=status, error_code=error_code,
    )
    if changed:
        await announce(conn, account_sid=conversation.account_sid, conversation_sid=conversation.sid, change=Change(
            event="delivery.updated", webhook_event="onDeliveryUpdated",
            resource=render.receipt(receipt, render.Root(action.base)), fields=receipt_fields(receipt, conversation),
            source=action.source, client_identity=action.client_identity, fires_webhooks=action.webhooks,
        ), chat_service_sid=conversation.chat_service_sid, correlation_id=action.correlation_id)
    return receipt
