"""Address configurations as Twilio renders them."""

from __future__ import annotations

from typing import Any

from services.conversations.domain.models import AddressConfiguration
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
