"""The Conversations resources as plain values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# What a provider sends to and from (the ingress service's sends take no other): E.164, or as a WhatsApp address.
_MESSAGING_ADDRESS = re.compile(r"(whatsapp:)?\+[1-9][0-9]{1,14}")


@dataclass(frozen=True)
class AddressConfiguration:
    sid: str
    account_sid: str
    type: str
    address: str
    friendly_name: str | None
    address_country: str | None
    auto_creation_enabled: bool
    auto_creation_type: str | None
    conversation_service_sid: str | None
    webhook_url: str | None
    webhook_method: str | None
    webhook_filters: list[str]
    studio_flow_sid: str | None
    studio_retry_count: int | None
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class Conversation:
    sid: str
    account_sid: str
    chat_service_sid: str
    messaging_service_sid: str | None
    friendly_name: str | None
    unique_name: str | None
    attributes: str
    state: str
    timer_inactive: timedelta | None
    timer_closed: timedelta | None
    date_inactive: datetime | None
    date_closed: datetime | None
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class Participant:
    sid: str
    account_sid: str
    conversation_sid: str
    identity: str | None
    binding_type: str | None
    address: str | None
    proxy_address: str | None
    projected_address: str | None
    attributes: str
    role_sid: str | None
    last_read_message_index: int | None
    last_read_timestamp: datetime | None
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class Message:
    sid: str
    account_sid: str
    conversation_sid: str
    index: int
    author: str
    body: str | None
    attributes: str
    participant_sid: str | None
    content_sid: str | None
    date_created: datetime
    date_updated: datetime
    media: list[dict[str, object]] = field(default_factory=list)
    subject: str | None = None


@dataclass(frozen=True)
class Receipt:
    sid: str
    account_sid: str
    conversation_sid: str
    message_sid: str
    participant_sid: str | None
    channel_message_sid: str | None
    status: str
    error_code: int
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class ScopedWebhook:
    sid: str
    account_sid: str
    conversation_sid: str
    target: str
    url: str | None
    method: str | None
    filters: list[str]
    triggers: list[str]
    flow_sid: str | None
    origin: str
    date_created: datetime
    date_updated: datetime
    replay_after: int | None = None


@dataclass(frozen=True)
class AccountConfiguration:
    """The account-level Configuration and Configuration/Webhooks; defaults when never written."""

    account_sid: str
    default_messaging_service_sid: str | None = None
    default_inactive_timer: timedelta | None = None
    default_closed_timer: timedelta | None = None
    webhook_method: str = "POST"
    webhook_filters: list[str] = field(default_factory=list)
    pre_webhook_url: str | None = None
    post_webhook_url: str | None = None
    webhook_target: str = "webhook"


@dataclass(frozen=True)
class ServiceWebhookConfiguration:
    chat_service_sid: str
    account_sid: str
    method: str | None = None
    filters: list[str] | None = None
    pre_webhook_url: str | None = None
    post_webhook_url: str | None = None


def channel_of(address: str) -> str:
    """The messaging channel an address belongs to: `whatsapp:+1…` is WhatsApp, the rest SMS."""
    return "whatsapp" if address.startswith("whatsapp:") else "sms"


def binding_problem(address: str, proxy_address: str) -> str | None:
    """Why a participant's messaging binding could never be sent to, if it could not: both ends are E.164
    (`+15550001111`) or WhatsApp (`whatsapp:+15550001111`) addresses, of the same channel."""
    for name, value in (("MessagingBinding.Address", address), ("MessagingBinding.ProxyAddress", proxy_address)):
        if not _MESSAGING_ADDRESS.fullmatch(value):
            return f"Invalid {name} '{value}': expected E.164 like +15550001111 or whatsapp:+15550001111"
    if channel_of(address) != channel_of(proxy_address):
        return "MessagingBinding.Address and MessagingBinding.ProxyAddress must be of the same channel"
    return None
