"""Which configured webhook targets an event goes to: filters, trigger words, the three levels."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.conversations.domain.models import AccountConfiguration, ScopedWebhook, ServiceWebhookConfiguration


@dataclass(frozen=True)
class Target:
    level: str  # account, service, conversation, address
    url: str
    method: str
    webhook_sid: str | None = None
    webhook_type: str | None = None


def account_target(config: AccountConfiguration | None, event: str) -> Target | None:
    if config is None or not config.post_webhook_url or config.webhook_target != "webhook":
        return None
    if event not in config.webhook_filters:
        return None
    return Target(level="account", url=config.post_webhook_url, method=config.webhook_method)


def service_target(config: ServiceWebhookConfiguration | None, event: str) -> Target | None:
    if config is None or not config.post_webhook_url or event not in (config.filters or []):
        return None
    return Target(level="service", url=config.post_webhook_url, method=config.method or "POST")


def scoped_targets(webhooks: list[ScopedWebhook], event: str, *, body: str | None = None) -> list[Target]:
    """Conversation-scoped hooks: `webhook` by filters, `trigger` on a message naming one of its words."""
    found: list[Target] = []
    for hook in webhooks:
        if not hook.url:
            continue  # studio flows run in the router, not through a URL
        if hook.target == "webhook" and event in hook.filters:
            pass
        elif hook.target == "trigger" and event == "onMessageAdded" and body and matches_trigger(body, hook.triggers):
            pass
        else:
            continue
        level = "address" if hook.origin == "address" else "conversation"
        found.append(Target(
            level=level, url=hook.url, method="GET" if (hook.method or "").upper() == "GET" else "POST",
            webhook_sid=None if level == "address" else hook.sid, webhook_type=hook.target,
        ))
    return found


def matches_trigger(body: str, words: list[str]) -> bool:
    """A trigger word matches a whole word of the body, case-insensitively."""
    tokens = {token.lower() for token in re.findall(r"\w+", body)}
    return any(word.lower() in tokens or (" " in word and word.lower() in body.lower()) for word in words)
