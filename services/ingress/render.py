"""Provider connections as the `/parley/v1/Providers` API renders them; credentials never leave."""

from __future__ import annotations

from typing import Any

from services.ingress.domain.providers import TWILIO, Provider
from shared.http import iso

PROVIDERS_PATH = "/parley/v1/Providers"
CALLBACKS_PATH = "/ingress/providers"


def provider(found: Provider, base: str) -> dict[str, Any]:
    callbacks = f"{base}{CALLBACKS_PATH}/{found.sid}"
    return {
        "sid": found.sid,
        "account_sid": found.account_sid,
        "friendly_name": found.friendly_name,
        "type": found.type,
        "addresses": list(found.addresses),
        "api_base_url": found.api_base_url,
        # Where the business points its carrier: Twilio-format messages, or Meta's webhook.
        "inbound_url": f"{callbacks}/messages" if found.type == TWILIO else f"{callbacks}/whatsapp",
        "status_callback_url": status_callback_url(base, found.sid),
        "date_created": iso(found.date_created),
        "date_updated": iso(found.date_updated),
        "url": f"{base}{PROVIDERS_PATH}/{found.sid}",
    }


def status_callback_url(base: str, provider_sid: str) -> str:
    """Where a Twilio-format provider reports the statuses of what Parley sent through it."""
    return f"{base}{CALLBACKS_PATH}/{provider_sid}/status"
