"""Provider connections: what a connection is, which addresses and credentials it may hold."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

TWILIO = "twilio"
WHATSAPP_CLOUD = "whatsapp_cloud"
PROVIDER_TYPES = (TWILIO, WHATSAPP_CLOUD)

# Form parameter → stored key, per provider type. A credential of the other type is a mistake
# worth reporting: it would be stored and silently never used.
CREDENTIAL_PARAMETERS: dict[str, dict[str, str]] = {
    TWILIO: {"Credentials.AccountSid": "account_sid", "Credentials.AuthToken": "auth_token"},
    WHATSAPP_CLOUD: {
        "Credentials.AccessToken": "access_token",
        "Credentials.AppSecret": "app_secret",
        "Credentials.VerifyToken": "verify_token",
        "Credentials.PhoneNumberId": "phone_number_id",
    },
}
REQUIRED_CREDENTIALS: dict[str, tuple[str, ...]] = {TWILIO: ("Credentials.AccountSid", "Credentials.AuthToken"),
                                                     WHATSAPP_CLOUD: ()}
ALL_CREDENTIAL_PARAMETERS = tuple(name for names in CREDENTIAL_PARAMETERS.values() for name in names)

_ADDRESS = re.compile(r"^(whatsapp:)?\+[1-9][0-9]{1,14}$")


class ProviderRuleBroken(ValueError):
    """A provider's settings break a rule; the message says which, for the API to report."""


@dataclass(frozen=True)
class ProviderFields:
    """What a client sets on a provider connection."""

    type: str
    addresses: tuple[str, ...]
    friendly_name: str | None = None
    api_base_url: str | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Provider:
    sid: str
    account_sid: str
    type: str
    addresses: tuple[str, ...]
    friendly_name: str | None
    api_base_url: str | None
    credentials: Mapping[str, str]
    date_created: datetime
    date_updated: datetime

    @property
    def auth_token(self) -> str | None:
        return self.credentials.get("auth_token")


def is_address(value: str) -> bool:
    """E.164 (`+15550001111`), optionally as a WhatsApp address (`whatsapp:+15550001111`)."""
    return bool(_ADDRESS.match(value))


def checked_addresses(values: Iterable[str]) -> tuple[str, ...]:
    """The addresses in the order given, each once; raises on the first malformed one."""
    addresses: list[str] = []
    for value in values:
        if not is_address(value):
            raise ProviderRuleBroken(
                f"Invalid address '{value}': expected E.164 like +15550001111 or whatsapp:+15550001111"
            )
        if value not in addresses:
            addresses.append(value)
    if not addresses:
        raise ProviderRuleBroken("A provider needs at least one address in Addresses")
    return tuple(addresses)


def checked_api_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProviderRuleBroken(f"Invalid ApiBaseUrl '{value}': expected an absolute http or https URL")
    return value


def checked_credentials(type_: str, given: Mapping[str, str]) -> dict[str, str]:
    """Form parameters (`Credentials.AuthToken`…) → stored keys, checked against the provider type."""
    allowed = CREDENTIAL_PARAMETERS[type_]
    for name in given:
        if name not in allowed:
            raise ProviderRuleBroken(f"Parameter '{name}' does not apply to a provider of type {type_}")
    return {allowed[name]: value for name, value in given.items()}


def require_credentials(type_: str, credentials: Mapping[str, str]) -> None:
    allowed = CREDENTIAL_PARAMETERS[type_]
    missing = [name for name in REQUIRED_CREDENTIALS[type_] if not credentials.get(allowed[name])]
    if missing:
        raise ProviderRuleBroken(f"Missing required parameter {', '.join(missing)} for a provider of type {type_}")


def changed(provider: Provider, *, friendly_name: str | None = None, addresses: tuple[str, ...] | None = None,
            api_base_url: str | None = None, clear_api_base_url: bool = False,
            credentials: Mapping[str, str] | None = None) -> ProviderFields:
    """The provider's fields after an update; credentials merge key by key, an empty value removes one."""
    merged = dict(provider.credentials)
    for key, value in (credentials or {}).items():
        if value:
            merged[key] = value
        else:
            merged.pop(key, None)
    require_credentials(provider.type, merged)
    return ProviderFields(
        type=provider.type,
        addresses=addresses if addresses is not None else provider.addresses,
        friendly_name=friendly_name if friendly_name is not None else provider.friendly_name,
        api_base_url=None if clear_api_base_url else (api_base_url or provider.api_base_url),
        credentials=merged,
    )
