"""Services, roles, users, bindings, credentials and media as plain values; Twilio's permission names and the
default roles every new service gets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

# Permissions a participant's (conversation) role may grant, by Twilio's names.
CONVERSATION_PERMISSIONS = frozenset({
    "addParticipant", "addNonChatParticipant", "deleteAnyMessage", "deleteConversation", "deleteOwnMessage",
    "editAnyMessage", "editAnyMessageAttributes", "editAnyParticipantAttributes", "editConversationAttributes",
    "editConversationName", "editNotificationLevel", "editOwnMessage", "editOwnMessageAttributes",
    "editOwnParticipantAttributes", "leaveConversation", "removeParticipant", "sendMediaMessage", "sendMessage",
})
# A user's (service) role grants these, and may grant conversation permissions across every conversation.
SERVICE_ONLY_PERMISSIONS = frozenset({"createConversation", "joinConversation", "editOwnUserInfo", "editAnyUserInfo"})
PERMISSIONS = {"conversation": CONVERSATION_PERMISSIONS, "service": CONVERSATION_PERMISSIONS | SERVICE_ONLY_PERMISSIONS}
ROLE_TYPES = ("conversation", "service")


class InvalidPermission(ValueError):
    def __init__(self, role_type: str, unknown: list[str]) -> None:
        super().__init__(f"Permission {', '.join(unknown)} is not valid for a {role_type} role; valid: "
                         f"{', '.join(sorted(PERMISSIONS[role_type]))}")


def check_permissions(role_type: str, permissions: list[str]) -> list[str]:
    """Twilio's names only, each once, in the order given."""
    unknown = [name for name in permissions if name not in PERMISSIONS[role_type]]
    if unknown:
        raise InvalidPermission(role_type, unknown)
    return list(dict.fromkeys(permissions))


@dataclass(frozen=True)
class DefaultRole:
    friendly_name: str
    type: str
    permissions: tuple[str, ...]


# The roles Twilio creates with a service; the first three become its Configuration's defaults.
CHANNEL_ADMIN = DefaultRole("channel admin", "conversation", (
    "deleteConversation", "removeParticipant", "editConversationName", "editConversationAttributes", "addParticipant",
    "sendMessage", "sendMediaMessage", "leaveConversation", "editAnyMessage", "editAnyMessageAttributes",
    "editAnyParticipantAttributes", "deleteAnyMessage", "editNotificationLevel",
))
CHANNEL_USER = DefaultRole("channel user", "conversation", (
    "sendMessage", "sendMediaMessage", "leaveConversation", "editOwnMessage", "editOwnMessageAttributes",
    "deleteOwnMessage", "editOwnParticipantAttributes", "editNotificationLevel",
))
SERVICE_ADMIN = DefaultRole("service admin", "service", (
    "createConversation", "joinConversation", "editOwnUserInfo", "editAnyUserInfo", "deleteConversation",
    "addParticipant", "removeParticipant", "editConversationName", "editConversationAttributes", "editAnyMessage",
    "editAnyMessageAttributes", "deleteAnyMessage", "editAnyParticipantAttributes",
))
SERVICE_USER = DefaultRole("service user", "service", ("createConversation", "joinConversation", "editOwnUserInfo"))
DEFAULT_ROLES = (CHANNEL_ADMIN, CHANNEL_USER, SERVICE_ADMIN, SERVICE_USER)


@dataclass(frozen=True)
class Service:
    sid: str
    account_sid: str
    friendly_name: str
    is_default: bool
    reachability_enabled: bool
    default_conversation_creator_role_sid: str | None
    default_conversation_role_sid: str | None
    default_chat_service_role_sid: str | None
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class PushTemplate:
    enabled: bool = False
    template: str | None = None
    sound: str | None = None


@dataclass(frozen=True)
class ServiceNotifications:
    """Configuration/Notifications; the defaults when never written."""

    chat_service_sid: str
    account_sid: str
    log_enabled: bool = False
    new_message: PushTemplate = field(default_factory=PushTemplate)
    new_message_badge_count_enabled: bool = False
    new_message_with_media: PushTemplate = field(default_factory=PushTemplate)
    added_to_conversation: PushTemplate = field(default_factory=PushTemplate)
    removed_from_conversation: PushTemplate = field(default_factory=PushTemplate)


@dataclass(frozen=True)
class Role:
    sid: str
    account_sid: str
    chat_service_sid: str
    friendly_name: str
    type: str
    permissions: list[str]
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class User:
    sid: str
    account_sid: str
    chat_service_sid: str
    identity: str
    friendly_name: str | None
    attributes: str
    role_sid: str | None
    is_online: bool | None
    is_notifiable: bool | None
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class UserConversation:
    """One conversation a user takes part in, seen from the user."""

    user_sid: str
    account_sid: str
    chat_service_sid: str
    conversation_sid: str
    participant_sid: str
    unique_name: str | None
    friendly_name: str | None
    attributes: str
    state: str
    date_inactive: datetime | None
    date_closed: datetime | None
    last_message_index: int
    last_read_message_index: int | None
    notification_level: str
    date_created: datetime
    date_updated: datetime

    @property
    def unread_messages_count(self) -> int | None:
        if self.last_read_message_index is None:
            return None
        return max(self.last_message_index - self.last_read_message_index, 0)


@dataclass(frozen=True)
class Binding:
    sid: str
    account_sid: str
    chat_service_sid: str
    credential_sid: str | None
    identity: str
    endpoint: str
    binding_type: str
    message_types: list[str]
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class Credential:
    """Stored push configuration; the secret columns are never loaded into this value."""

    sid: str
    account_sid: str
    friendly_name: str | None
    type: str
    sandbox: bool | None
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class Media:
    sid: str
    account_sid: str
    chat_service_sid: str
    content_type: str
    filename: str | None
    size: int
    category: str
    author: str | None
    blob_key: str
    date_created: datetime
    date_updated: datetime


def media_summary(media: Media) -> dict[str, object]:
    """A media file as a message lists it, in REST answers and in webhooks' `Media` field alike."""
    return {"sid": media.sid, "content_type": media.content_type, "filename": media.filename, "size": media.size,
            "category": media.category}


def user_fields(user: User, *, updated: bool) -> list[tuple[str, str]]:
    """The form fields of onUserAdded / onUserUpdated."""
    fields = [
        ("ChatServiceSid", user.chat_service_sid),
        ("UserSid", user.sid),
        ("Identity", user.identity),
        ("Attributes", user.attributes),
        ("DateCreated", _iso(user.date_created)),
    ]
    if user.role_sid is not None:
        fields.append(("RoleSid", user.role_sid))
    if user.friendly_name is not None:
        fields.append(("FriendlyName", user.friendly_name))
    if updated:
        fields.append(("DateUpdated", _iso(user.date_updated)))
        if user.is_online is not None:
            fields.append(("IsOnline", "true" if user.is_online else "false"))
        if user.is_notifiable is not None:
            fields.append(("IsNotifiable", "true" if user.is_notifiable else "false"))
    return fields


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
