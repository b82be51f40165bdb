"""Flex Flows, Web Channels and the Flex Configuration → Twilio's JSON (flex-api v1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.router.domain.flex_flows import FlexFlow, WebChannel, shown_integration
from shared.http import iso

FLEX_FLOWS = "/flex-api/v1/FlexFlows"
WEB_CHANNELS = "/flex-api/v1/WebChannels"
CONFIGURATION = "/flex-api/v1/Configuration"


def flex_flow(value: FlexFlow, base: str) -> dict[str, Any]:
    return {
        "sid": value.sid, "account_sid": value.account_sid, "date_created": iso(value.date_created),
        "date_updated": iso(value.date_updated), "friendly_name": value.friendly_name,
        "chat_service_sid": value.chat_service_sid, "channel_type": value.channel_type,
        "contact_identity": value.contact_identity, "enabled": value.enabled,
        "integration_type": value.integration_type, "integration": shown_integration(value),
        "long_lived": value.long_lived, "janitor_enabled": value.janitor_enabled,
        "url": f"{base}{FLEX_FLOWS}/{value.sid}",
    }


def web_channel(value: WebChannel, base: str) -> dict[str, Any]:
    return {
        "flex_flow_sid": value.flex_flow_sid, "account_sid": value.account_sid, "sid": value.sid,
        "date_created": iso(value.date_created), "date_updated": iso(value.date_updated),
        "url": f"{base}{WEB_CHANNELS}/{value.sid}",
    }


def configuration(row: Any, base: str, *, fields: Iterable[str], defaults: dict[str, Any]) -> dict[str, Any]:
    """Every field of Twilio's resource: what the client stored, over Parley's defaults, else null."""
    return {
        **dict.fromkeys(fields), **defaults, **row["values"],
        "account_sid": row["account_sid"], "date_created": iso(row["date_created"]),
        "date_updated": iso(row["date_updated"]), "status": "ok", "service_version": "parley",
        "url": f"{base}{CONFIGURATION}",
    }
