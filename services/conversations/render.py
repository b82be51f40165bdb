"""Resources as Twilio's Conversations API renders them; used by the REST API and by events alike."""

from __future__ import annotations

from typing import Any

from services.conversations.domain.models import AddressConfiguration, Conversation, Message, Participant
from shared.http import iso

V1 = "/conversations/v1"


def address_configuration(address: AddressConfiguration, base: str) -> dict[str, Any]:
    auto_creation: dict[str, Any] = {"enabled": address.auto_creation_enabled, "type": address.auto_creation_type}
    # Twilio shows only the keys that belong to the auto-creation type.
    if address.auto_creation_type == "webhook":
        auto_creation.update(
            conversation_service_sid=address.conversation_service_sid,
            webhook_url=address.webhook_url,
            webhook_method=address.webhook_method,
            webhook_filters=address.webhook_filters,
        )
    elif address.auto_creation_type == "studio":
        auto_creation.update(
            conversation_service_sid=address.conversation_service_sid,
            studio_flow_sid=address.studio_flow_sid,
            studio_retry_count=address.studio_retry_count,
        )
    return {
        "sid": address.sid,
        "account_sid": address.account_sid,
        "type": address.type,
        "address": address.address,
        "friendly_name": address.friendly_name,
        "auto_creation": auto_creation,
        "date_created": iso(address.date_created),
        "date_updated": iso(address.date_updated),
        "url": f"{base}{V1}/Configuration/Addresses/{address.sid}",
        "address_country": address.address_country,
    }


def conversation(conversation: Conversation, base: str) -> dict[str, Any]:
    url = f"{base}{V1}/Conversations/{conversation.sid}"
    timers: dict[str, Any] = {}
    if conversation.date_inactive is not None:
        timers["date_inactive"] = iso(conversation.date_inactive)
    if conversation.date_closed is not None:
        timers["date_closed"] = iso(conversation.date_closed)
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
        "timers": timers,
        "bindings": {},
        "url": url,
        "links": {
            "participants": f"{url}/Participants",
            "messages": f"{url}/Messages",
            "webhooks": f"{url}/Webhooks",
        },
    }


def participant(participant: Participant, base: str) -> dict[str, Any]:
    binding = None
    if participant.binding_type in ("sms", "whatsapp"):
        binding = {
            "type": participant.binding_type,
            "address": participant.address,
            "proxy_address": participant.proxy_address,
        }
    elif participant.projected_address is not None:
        binding = {"type": "sms", "projected_address": participant.projected_address}
    return {
        "sid": participant.sid,
        "account_sid": participant.account_sid,
        "conversation_sid": participant.conversation_sid,
        "identity": participant.identity,
        "attributes": participant.attributes,
        "messaging_binding": binding,
        "role_sid": participant.role_sid,
        "date_created": iso(participant.date_created),
        "date_updated": iso(participant.date_updated),
        "url": f"{base}{V1}/Conversations/{participant.conversation_sid}/Participants/{participant.sid}",
        "last_read_message_index": participant.last_read_message_index,
        "last_read_timestamp": iso(participant.last_read_timestamp),
    }


def message(message: Message, base: str) -> dict[str, Any]:
    url = f"{base}{V1}/Conversations/{message.conversation_sid}/Messages/{message.sid}"
    return {
        "sid": message.sid,
        "account_sid": message.account_sid,
        "conversation_sid": message.conversation_sid,
        "index": message.index,
        "author": message.author,
        "body": message.body,
        "media": message.media or None,
        "attributes": message.attributes,
        "participant_sid": message.participant_sid,
        "date_created": iso(message.date_created),
        "date_updated": iso(message.date_updated),
        "delivery": None,
        "content_sid": message.content_sid,
        "url": url,
        "links": {"delivery_receipts": f"{url}/Receipts", "channel_metadata": f"{url}/ChannelMetadata"},
    }
