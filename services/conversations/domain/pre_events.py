"""Pre-event webhooks as rules: which configured URLs an action asks, with which fields, what an answer may change.

Pre-action hooks exist at account and service level only (TWILIO-NOTES §1.1), selected by the same
filters as post-event ones; they fire for messaging participants' and SDK clients' actions, never
for REST actions (§1.3). During auto-creation only onConversationAdd fires (§3.2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from services.conversations.domain.models import AccountConfiguration, Conversation, ServiceWebhookConfiguration
from services.conversations.domain.targets import Target
from services.conversations.domain.webhook_fields import Fields

# The snake_case fields an answer may replace (§1.6), and the form field each one is sent as.
MODIFIABLE: dict[str, dict[str, str]] = {
    "onConversationAdd": {"friendly_name": "FriendlyName"},
    "onConversationUpdate": {"friendly_name": "FriendlyName"},
    "onMessageAdd": {"body": "Body", "author": "Author", "attributes": "Attributes"},
    "onMessageUpdate": {"body": "Body", "author": "Author", "attributes": "Attributes"},
}


def pre_event_targets(account: AccountConfiguration | None, service: ServiceWebhookConfiguration | None,
                      event: str) -> list[Target]:
    """The account's pre-event URL, then the service's, each when its filters name the event."""
    found: list[Target] = []
    if (account is not None and account.pre_webhook_url and account.webhook_target == "webhook"
            and event in account.webhook_filters):
        found.append(Target(level="account", url=account.pre_webhook_url, method=account.webhook_method))
    if service is not None and service.pre_webhook_url and event in (service.filters or []):
        found.append(Target(level="service", url=service.pre_webhook_url, method=service.method or "POST"))
    return found


def message_add_fields(conversation: Conversation, *, author: str, body: str, participant_sid: str | None,
                       attributes: str = "{}") -> Fields:
    """onMessageAdd: the message as it would be stored (no SID or index yet: nothing is committed)."""
    fields: Fields = [
        ("ConversationSid", conversation.sid),
        ("ChatServiceSid", conversation.chat_service_sid),
        ("Body", body),
        ("Author", author),
        ("Attributes", attributes),
    ]
    if conversation.messaging_service_sid:
        fields.append(("MessagingServiceSid", conversation.messaging_service_sid))
    if participant_sid:
        fields.append(("ParticipantSid", participant_sid))
    return fields


def conversation_add_fields(*, chat_service_sid: str, friendly_name: str | None, address: str, proxy_address: str,
                            message_body: str, binding_type: str) -> Fields:
    """onConversationAdd for a conversation an inbound message would auto-create: the number pair and its body."""
    fields: Fields = [
        ("ChatServiceSid", chat_service_sid),
        ("Attributes", "{}"),
        ("State", "active"),
        ("MessagingBinding.Address", address),
        ("MessagingBinding.ProxyAddress", proxy_address),
        ("MessagingBinding.Type", binding_type.upper()),
        ("MessageBody", message_body),
    ]
    if friendly_name:
        fields.append(("FriendlyName", friendly_name))
    return fields


@dataclass(frozen=True)
class Verdict:
    """What the pre-event hooks decided: go ahead (with `fields` replaced), or blocked by one of them."""

    event_type: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    blocked_by: str | None = None  # the URL that refused
    status_code: int | None = None

    @property
    def blocked(self) -> bool:
        return self.blocked_by is not None


ALLOWED = Verdict()


def apply_answer(params: Fields, event: str, answer: dict[str, str]) -> tuple[Fields, dict[str, str]]:
    """Fold one answer's changes into the fields the next hook is sent, and keep the ones that are valid.

    `attributes` must be a JSON object or array in text; anything else is ignored, as Twilio rejects it.
    """
    names = MODIFIABLE.get(event, {})
    accepted: dict[str, str] = {}
    for name, value in answer.items():
        if name not in names:
            continue
        if name == "attributes" and not _is_json_structure(value):
            continue
        accepted[name] = value
    changed = {names[name]: value for name, value in accepted.items()}
    replaced = [(key, changed.pop(key) if key in changed else value) for key, value in params]
    return replaced + list(changed.items()), accepted


def _is_json_structure(value: str) -> bool:
    try:
        return isinstance(json.loads(value), (dict, list))
    except ValueError:
        return False
