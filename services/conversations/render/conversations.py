"""Conversations, participants, messages, receipts and webhook configuration as Twilio renders them."""

from __future__ import annotations

from typing import Any

from services.conversations.domain.delivery import delivery_summary
from services.conversations.domain.models import (
    AccountConfiguration,
    Conversation,
    Message,
    Participant,
    Receipt,
    ScopedWebhook,
    ServiceWebhookConfiguration,
)
from services.conversations.domain.states import format_duration
from services.conversations.render.root import Root
from shared.http import iso


def _scoped(root: Root, body: dict[str, Any], chat_service_sid: str) -> dict[str, Any]:
    """Resources under /Services/{IS} name their service; the default-service forms don't."""
    if root.service_sid is not None:
        return {"account_sid": body.pop("account_sid"), "chat_service_sid": chat_service_sid, **body}
    return body


def timers(conversation: Conversation) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if conversation.date_inactive is not None:
        found["date_inactive"] = iso(conversation.date_inactive)
    if conversation.date_closed is not None:
        found["date_closed"] = iso(conversation.date_closed)
    return found


def conversation(conversation: Conversation, root: Root) -> dict[str, Any]:
    url = f"{root.url}/Conversations/{conversation.sid}"
    return {
        "sid": conversation.sid,
        "account_sid": conversation.account_sid,
        "chat_service_sid": conversation.chat_service_sid,
        "messaging_service_sid": conversation.messaging_service_sid,
        "friendly_name": conversation.friendly_name,
        "unique_name": conversation.unique_name,
        "attributes": conversation.attributes,
        "state": conversation.state,
        "date_created": iso(conversation.date_created),
        "date_updated": iso(conversation.date_updated),
        "timers": timers(conversation),
        "bindings": {},
        "url": url,
        "links": {
            "participants": f"{url}/Participants",
            "messages": f"{url}/Messages",
            "webhooks": f"{url}/Webhooks",
        },
    }


def messaging_binding(participant: Participant) -> dict[str, Any] | None:
    if participant.binding_type in ("sms", "whatsapp"):
        return {"type": participant.binding_type, "address": participant.address,
                "proxy_address": participant.proxy_address}
    if participant.projected_address is not None:
        return {"type": "sms", "projected_address": participant.projected_address}
    return None


def participant(participant: Participant, root: Root, *, chat_service_sid: str = "") -> dict[str, Any]:
    return _scoped(root, {
        "account_sid": participant.account_sid,
        "conversation_sid": participant.conversation_sid,
        "sid": participant.sid,
        "identity": participant.identity,
        "attributes": participant.attributes,
        "messaging_binding": messaging_binding(participant),
        "role_sid": participant.role_sid,
        "date_created": iso(participant.date_created),
        "date_updated": iso(participant.date_updated),
        "url": f"{root.url}/Conversations/{participant.conversation_sid}/Participants/{participant.sid}",
        "last_read_message_index": participant.last_read_message_index,
        "last_read_timestamp": iso(participant.last_read_timestamp),
    }, chat_service_sid)


def message(
    message: Message, root: Root, *, receipts: dict[str, int] | None = None, chat_service_sid: str = ""
) -> dict[str, Any]:
    """`receipts` counts the message's receipts per status, for the `delivery` summary."""
    url = f"{root.url}/Conversations/{message.conversation_sid}/Messages/{message.sid}"
    return _scoped(root, {
        "account_sid": message.account_sid,
        "conversation_sid": message.conversation_sid,
        "sid": message.sid,
        "index": message.index,
        "author": message.author,
        "body": message.body,
        "media": message.media or None,
        "attributes": message.attributes,
        "participant_sid": message.participant_sid,
        "date_created": iso(message.date_created),
        "date_updated": iso(message.date_updated),
        "delivery": delivery_summary(receipts or {}),
        "content_sid": message.content_sid,
        "url": url,
        "links": {"delivery_receipts": f"{url}/Receipts", "channel_metadata": f"{url}/ChannelMetadata"},
    }, chat_service_sid)


def receipt(receipt: Receipt, root: Root, *, chat_service_sid: str = "") -> dict[str, Any]:
    return _scoped(root, {
        "account_sid": receipt.account_sid,
        "conversation_sid": receipt.conversation_sid,
        "sid": receipt.sid,
        "message_sid": receipt.message_sid,
        "channel_message_sid": receipt.channel_message_sid,
        "participant_sid": receipt.participant_sid,
        "status": receipt.status,
        "error_code": receipt.error_code,
        "date_created": iso(receipt.date_created),
        "date_updated": iso(receipt.date_updated),
        "url": f"{root.url}/Conversations/{receipt.conversation_sid}/Messages/{receipt.message_sid}/Receipts/{receipt.sid}",
    }, chat_service_sid)


def scoped_webhook(webhook: ScopedWebhook, root: Root, *, chat_service_sid: str = "") -> dict[str, Any]:
    configuration: dict[str, Any] = {}
    if webhook.target in ("webhook", "trigger"):
        configuration.update(url=webhook.url, method=(webhook.method or "POST").upper())
    if webhook.target == "webhook":
        configuration["filters"] = webhook.filters
    if webhook.target == "trigger":
        configuration.update(triggers=webhook.triggers, filters=webhook.triggers)
    if webhook.target == "studio":
        configuration["flow_sid"] = webhook.flow_sid
    if webhook.replay_after is not None:
        configuration["replay_after"] = webhook.replay_after
    return _scoped(root, {
        "account_sid": webhook.account_sid,
        "conversation_sid": webhook.conversation_sid,
        "sid": webhook.sid,
        "target": webhook.target,
        "url": f"{root.url}/Conversations/{webhook.conversation_sid}/Webhooks/{webhook.sid}",
        "configuration": configuration,
        "date_created": iso(webhook.date_created),
        "date_updated": iso(webhook.date_updated),
    }, chat_service_sid)


def participant_conversation(participant: Participant, conversation: Conversation, root: Root) -> dict[str, Any]:
    conversation_url = f"{root.url}/Conversations/{conversation.sid}"
    return {
        "account_sid": participant.account_sid,
        "chat_service_sid": conversation.chat_service_sid,
        "participant_sid": participant.sid,
        "participant_user_sid": None,
        "participant_identity": participant.identity,
        "participant_messaging_binding": messaging_binding(participant),
        "conversation_sid": conversation.sid,
        "conversation_unique_name": conversation.unique_name,
        "conversation_friendly_name": conversation.friendly_name,
        "conversation_attributes": conversation.attributes,
        "conversation_date_created": iso(conversation.date_created),
        "conversation_date_updated": iso(conversation.date_updated),
        "conversation_created_by": None,
        "conversation_state": conversation.state,
        "conversation_timers": timers(conversation),
        "links": {"participant": f"{conversation_url}/Participants/{participant.sid}", "conversation": conversation_url},
    }


def account_configuration(config: AccountConfiguration, root: Root, *, default_chat_service_sid: str) -> dict[str, Any]:
    return {
        "account_sid": config.account_sid,
        "default_chat_service_sid": default_chat_service_sid,
        "default_messaging_service_sid": config.default_messaging_service_sid,
        "default_inactive_timer": format_duration(config.default_inactive_timer),
        "default_closed_timer": format_duration(config.default_closed_timer),
        "url": f"{root.v1}/Configuration",
        "links": {
            "service": f"{root.v1}/Services/{default_chat_service_sid}/Configuration",
            "webhooks": f"{root.v1}/Configuration/Webhooks",
        },
    }


def account_webhooks(config: AccountConfiguration, root: Root) -> dict[str, Any]:
    return {
        "account_sid": config.account_sid,
        "method": config.webhook_method,
        "filters": config.webhook_filters,
        "pre_webhook_url": config.pre_webhook_url,
        "post_webhook_url": config.post_webhook_url,
        "target": config.webhook_target,
        "url": f"{root.v1}/Configuration/Webhooks",
    }


def service_webhooks(
    config: ServiceWebhookConfiguration | None, root: Root, *, account_sid: str, chat_service_sid: str
) -> dict[str, Any]:
    return {
        "account_sid": account_sid,
        "chat_service_sid": chat_service_sid,
        "pre_webhook_url": config.pre_webhook_url if config else None,
        "post_webhook_url": config.post_webhook_url if config else None,
        "filters": config.filters if config else None,
        # Twilio calls webhooks with POST unless told otherwise, configured or not.
        "method": (config.method if config else None) or "POST",
        "url": f"{root.v1}/Services/{chat_service_sid}/Configuration/Webhooks",
    }
