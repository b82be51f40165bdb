"""Messages the ingress service publishes: channel traffic coming in from providers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

INBOUND_MESSAGE = "inbound.message"


class InboundMedia(BaseModel):
    """One file of an inbound message. Ingress fetches it (with the provider's credentials) before publishing and
    stores the bytes in the shared blob store: `blob_key` names them, since bytes never travel on the broker.
    A fetch that failed leaves `blob_key` empty and says why in `error`; the message goes on without the file."""

    url: str
    content_type: str
    blob_key: str | None = None
    size: int | None = None
    filename: str | None = None
    error: str | None = None


class InboundMessage(BaseModel):
    """A customer's message as a provider delivered it, before any conversation is chosen."""

    model_config = ConfigDict(extra="ignore")

    provider_sid: str = Field(description="PV… of the provider connection that received it.")
    channel: Literal["sms", "whatsapp", "chat"]
    channel_message_sid: str = Field(description="The provider's id of the message (MessageSid).")
    from_address: str = Field(description="The customer's address, e.g. +15551234567 or whatsapp:+1555….")
    to_address: str = Field(description="Parley's address the customer wrote to.")
    body: str = ""
    media: list[InboundMedia] = Field(default_factory=list)
    profile_name: str | None = None
    received_at: datetime
