"""The form fields Twilio sends for each Conversations webhook event, built from resources."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.conversations.domain.models import Conversation, Message, Participant, Receipt

Fields = list[tuple[str, str]]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _put(fields: Fields, name: str, value: object) -> None:
    if value is None:
        return
    fields.append((name, str(value)))


def common_fields(event_type: str, *, account_sid: str, source: str, client_identity: str | None) -> Fields:
    fields: Fields = [("EventType", event_type), ("AccountSid", account_sid), ("Source", source)]
    _put(fields, "ClientIdentity", client_identity)
    return fields


def conversation_fields(conversation: Conversation, binding: Participant | None) -> Fields:
    fields: Fields = [
        ("ConversationSid", conversation.sid),
        ("ChatServiceSid", conversation.chat_service_sid),
        ("DateCreated", _iso(conversation.date_created)),
        ("DateUpdated", _iso(conversation.date_updated)),
        ("Attributes", conversation.attributes),
        ("State", conversation.state),
    ]
    _put(fields, "FriendlyName", conversation.friendly_name)
    _put(fields, "UniqueName", conversation.unique_name)
    _put(fields, "MessagingServiceSid", conversation.messaging_service_sid)
    if binding is not None and binding.address is not None:
        _put(fields, "MessagingBinding.Address", binding.address)
        _put(fields, "MessagingBinding.ProxyAddress", binding.proxy_address)
    return fields


def participant_fields(participant: Participant, conversation: Conversation) -> Fields:
    fields: Fields = [
        ("ConversationSid", participant.conversation_sid),
        ("ChatServiceSid", conversation.chat_service_sid),
        ("ParticipantSid", participant.sid),
        ("DateCreated", _iso(participant.date_created)),
        ("DateUpdated", _iso(participant.date_updated)),
        ("Attributes", participant.attributes),
    ]
    _put(fields, "Identity", participant.identity)
    _put(fields, "RoleSid", participant.role_sid)
    _put(fields, "LastReadMessageIndex", participant.last_read_message_index)
    if participant.binding_type is not None:
        fields.append(("MessagingBinding.Type", participant.binding_type.upper()))
    _put(fields, "MessagingBinding.Address", participant.address)
    _put(fields, "MessagingBinding.ProxyAddress", participant.proxy_address)
    _put(fields, "MessagingBinding.ProjectedAddress", participant.projected_address)
    return fields


def message_fields(message: Message, conversation: Conversation) -> Fields:
    fields: Fields = [
        ("ConversationSid", message.conversation_sid),
        ("ChatServiceSid", conversation.chat_service_sid),
        ("MessageSid", message.sid),
        ("Index", str(message.index)),
        ("DateCreated", _iso(message.date_created)),
        ("DateUpdated", _iso(message.date_updated)),
        ("Author", message.author),
        ("Body", message.body or ""),
        ("Attributes", message.attributes),
    ]
    _put(fields, "MessagingServiceSid", conversation.messaging_service_sid)
    _put(fields, "ParticipantSid", message.participant_sid)
    if message.media:
        fields.append(("Media", json.dumps(message.media)))
    return fields


def state_fields(conversation: Conversation, *, state_from: str, reason: str) -> Fields:
    """onConversationStateUpdated: the transition, why it happened, and when."""
    fields: Fields = [
        ("ConversationSid", conversation.sid),
        ("ChatServiceSid", conversation.chat_service_sid),
        ("StateFrom", state_from),
        ("StateTo", conversation.state),
        ("Reason", reason),
        ("StateUpdated", _iso(conversation.date_updated)),
    ]
    _put(fields, "MessagingServiceSid", conversation.messaging_service_sid)
    return fields


def removed(fields: Fields, when: datetime) -> Fields:
    """The …Removed events carry the resource as it was, and when it went."""
    return [*fields, ("DateRemoved", _iso(when))]


def receipt_fields(receipt: Receipt, conversation: Conversation) -> Fields:
    fields: Fields = [
        ("ConversationSid", receipt.conversation_sid),
        ("ChatServiceSid", conversation.chat_service_sid),
        ("MessageSid", receipt.message_sid),
        ("DeliveryReceiptSid", receipt.sid),
        ("Status", receipt.status),
        ("ErrorCode", str(receipt.error_code)),
        ("DateCreated", _iso(receipt.date_created)),
        ("DateUpdated", _iso(receipt.date_updated)),
    ]
    _put(fields, "ChannelMessageSid", receipt.channel_message_sid)
    _put(fields, "ParticipantSid", receipt.participant_sid)
    return fields
