"""Services, their configuration, roles, users, user conversations, bindings, credentials and media as Twilio
renders them. Credentials never show their secrets."""

from __future__ import annotations

from typing import Any

from services.conversations.domain.identity import (
    Binding,
    Credential,
    Media,
    PushTemplate,
    Role,
    Service,
    ServiceNotifications,
    User,
    UserConversation,
)
from services.conversations.render.root import Root
from shared.http import iso


def service(service: Service, root: Root) -> dict[str, Any]:
    url = f"{root.v1}/Services/{service.sid}"
    return {
        "account_sid": service.account_sid,
        "sid": service.sid,
        "friendly_name": service.friendly_name,
        "date_created": iso(service.date_created),
        "date_updated": iso(service.date_updated),
        "url": url,
        "links": {
            "conversations": f"{url}/Conversations",
            "users": f"{url}/Users",
            "roles": f"{url}/Roles",
            "bindings": f"{url}/Bindings",
            "configuration": f"{url}/Configuration",
            "participant_conversations": f"{url}/ParticipantConversations",
        },
    }


def service_configuration(service: Service, root: Root) -> dict[str, Any]:
    url = f"{root.v1}/Services/{service.sid}/Configuration"
    return {
        "chat_service_sid": service.sid,
        "default_conversation_creator_role_sid": service.default_conversation_creator_role_sid,
        "default_conversation_role_sid": service.default_conversation_role_sid,
        "default_chat_service_role_sid": service.default_chat_service_role_sid,
        "reachability_enabled": service.reachability_enabled,
        "url": url,
        "links": {"notifications": f"{url}/Notifications", "webhooks": f"{url}/Webhooks"},
    }


def _push(template: PushTemplate, *, with_sound: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"enabled": template.enabled, "template": template.template}
    if with_sound:
        body["sound"] = template.sound
    return body


def service_notifications(notifications: ServiceNotifications, root: Root) -> dict[str, Any]:
    new_message = _push(notifications.new_message)
    new_message["badge_count_enabled"] = notifications.new_message_badge_count_enabled
    new_message["with_media"] = _push(notifications.new_message_with_media, with_sound=False)
    return {
        "account_sid": notifications.account_sid,
        "chat_service_sid": notifications.chat_service_sid,
        "log_enabled": notifications.log_enabled,
        "new_message": new_message,
        "added_to_conversation": _push(notifications.added_to_conversation),
        "removed_from_conversation": _push(notifications.removed_from_conversation),
        "url": f"{root.v1}/Services/{notifications.chat_service_sid}/Configuration/Notifications",
    }


def role(role: Role, root: Root) -> dict[str, Any]:
    return {
        "sid": role.sid,
        "account_sid": role.account_sid,
        "chat_service_sid": role.chat_service_sid,
        "friendly_name": role.friendly_name,
        "type": role.type,
        "permissions": role.permissions,
        "date_created": iso(role.date_created),
        "date_updated": iso(role.date_updated),
        "url": f"{root.url}/Roles/{role.sid}",
    }


def user(user: User, root: Root) -> dict[str, Any]:
    url = f"{root.url}/Users/{user.sid}"
    return {
        "sid": user.sid,
        "account_sid": user.account_sid,
        "chat_service_sid": user.chat_service_sid,
        "role_sid": user.role_sid,
        "identity": user.identity,
        "friendly_name": user.friendly_name,
        "attributes": user.attributes,
        "is_online": user.is_online,
        "is_notifiable": user.is_notifiable,
        "date_created": iso(user.date_created),
        "date_updated": iso(user.date_updated),
        "url": url,
        "links": {"user_conversations": f"{url}/Conversations"},
    }


def user_conversation(found: UserConversation, root: Root) -> dict[str, Any]:
    conversation_url = f"{root.url}/Conversations/{found.conversation_sid}"
    timers: dict[str, Any] = {}
    if found.date_inactive is not None:
        timers["date_inactive"] = iso(found.date_inactive)
    if found.date_closed is not None:
        timers["date_closed"] = iso(found.date_closed)
    return {
        "account_sid": found.account_sid,
        "chat_service_sid": found.chat_service_sid,
        "conversation_sid": found.conversation_sid,
        "unread_messages_count": found.unread_messages_count,
        "last_read_message_index": found.last_read_message_index,
        "participant_sid": found.participant_sid,
        "user_sid": found.user_sid,
        "friendly_name": found.friendly_name,
        "conversation_state": found.state,
        "timers": timers,
        "attributes": found.attributes,
        "date_created": iso(found.date_created),
        "date_updated": iso(found.date_updated),
        "created_by": None,
        "notification_level": found.notification_level,
        "unique_name": found.unique_name,
        "url": f"{root.url}/Users/{found.user_sid}/Conversations/{found.conversation_sid}",
        "links": {
            "participant": f"{conversation_url}/Participants/{found.participant_sid}",
            "conversation": conversation_url,
        },
    }


def binding(binding: Binding, root: Root) -> dict[str, Any]:
    return {
        "sid": binding.sid,
        "account_sid": binding.account_sid,
        "chat_service_sid": binding.chat_service_sid,
        "credential_sid": binding.credential_sid,
        "date_created": iso(binding.date_created),
        "date_updated": iso(binding.date_updated),
        "endpoint": binding.endpoint,
        "identity": binding.identity,
        "binding_type": binding.binding_type,
        "message_types": binding.message_types,
        "url": f"{root.v1}/Services/{binding.chat_service_sid}/Bindings/{binding.sid}",
    }


def credential(credential: Credential, root: Root) -> dict[str, Any]:
    return {
        "sid": credential.sid,
        "account_sid": credential.account_sid,
        "friendly_name": credential.friendly_name,
        "type": credential.type,
        # Twilio renders the flag as a string.
        "sandbox": None if credential.sandbox is None else str(credential.sandbox).lower(),
        "date_created": iso(credential.date_created),
        "date_updated": iso(credential.date_updated),
        "url": f"{root.v1}/Credentials/{credential.sid}",
    }


MCS_V1 = "/mcs/v1"


def media(media: Media, base: str, *, temporary_url: str) -> dict[str, Any]:
    url = f"{base}{MCS_V1}/Services/{media.chat_service_sid}/Media/{media.sid}"
    return {
        "sid": media.sid,
        "account_sid": media.account_sid,
        "service_sid": media.chat_service_sid,
        "date_created": iso(media.date_created),
        "date_updated": iso(media.date_updated),
        "date_upload_updated": iso(media.date_updated),
        "channel_sid": None,
        "message_sid": None,
        "author": media.author,
        "content_type": media.content_type,
        "filename": media.filename,
        "size": media.size,
        "category": media.category,
        "is_multipart_upstream": False,
        "url": url,
        "links": {"content": f"{url}/Content", "content_direct_temporary": temporary_url},
    }
