"""Twilio's inbound message webhook (SMS, MMS, WhatsApp) read into Parley's InboundMessage."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from shared.contracts.ingress import InboundMedia, InboundMessage

# Twilio has renamed the message id over the years; carriers speaking its format send any of these.
_MESSAGE_SID_FIELDS = ("MessageSid", "SmsMessageSid", "SmsSid")
# Fixes the namespace of inbound message ids; changing it would make retries across a deploy look new.
_INBOUND_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://parley/ingress/inbound-message")


class InboundRejected(ValueError):
    """The webhook lacks what Parley needs; `parameter` names the field at fault."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def inbound_message_id(provider_sid: str, message_sid: str) -> uuid.UUID:
    """The same for every retry of one provider message, so the broker message is the same one."""
    return uuid.uuid5(_INBOUND_NAMESPACE, f"{provider_sid}/{message_sid}")


def channel_of(address: str) -> Literal["sms", "whatsapp"]:
    return "whatsapp" if address.startswith("whatsapp:") else "sms"


def read_inbound_message(
    fields: Mapping[str, str], *, provider_sid: str, addresses: tuple[str, ...], received_at: datetime
) -> InboundMessage:
    """Raises InboundRejected when a field is missing or `To` is not an address of the provider."""
    message_sid = next((fields[name] for name in _MESSAGE_SID_FIELDS if fields.get(name)), None)
    if message_sid is None:
        raise InboundRejected("MessageSid", "Missing required parameter MessageSid in the post body")
    from_address = _required(fields, "From")
    to_address = _required(fields, "To")
    if to_address not in addresses:
        raise InboundRejected("To", f"To '{to_address}' is not an address of provider {provider_sid}")
    return InboundMessage(
        provider_sid=provider_sid,
        channel=channel_of(from_address),
        channel_message_sid=message_sid,
        from_address=from_address,
        to_address=to_address,
        body=fields.get("Body", ""),
        media=_media(fields),
        profile_name=fields.get("ProfileName") or None,
        received_at=received_at,
    )


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise InboundRejected(name, f"Missing required parameter {name} in the post body")
    return value


def _media(fields: Mapping[str, str]) -> list[InboundMedia]:
    """MediaUrl0…N with their MediaContentType0…N; the URLs themselves say how many there are."""
    media = []
    index = 0
    while url := fields.get(f"MediaUrl{index}"):
        content_type = fields.get(f"MediaContentType{index}") or "application/octet-stream"
        media.append(InboundMedia(url=url, content_type=content_type))
        index += 1
    return media
