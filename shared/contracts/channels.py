"""Messages between conversations and the channel edge: sends going out, receipts coming back."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SEND_MESSAGE = "channel.send"  # conversations → ingress, on parley.commands
DELIVERY_RECEIPT = "channel.receipt"  # ingress → conversations, on parley.inbound
# ingress → ingress, on parley.inbound: a provider's status callback, kept by the broker until the send takes it
PROVIDER_STATUS = "channel.status"


class OutboundMedia(BaseModel):
    """Media bytes never travel on the broker: the blob key (or a URL) names them."""

    media_sid: str | None = None
    blob_key: str | None = None
    url: str | None = None
    content_type: str
    filename: str | None = None
    size: int | None = None


class OutboundMessage(BaseModel):
    """Send one conversation message to one SMS/WhatsApp participant, through the provider of `from_address`."""

    model_config = ConfigDict(extra="ignore")

    conversation_sid: str
    message_sid: str
    participant_sid: str
    channel: Literal["sms", "whatsapp"]
    from_address: str = Field(description="The participant's proxy address: Parley's number.")
    to_address: str = Field(description="The customer's address.")
    body: str = ""
    media: list[OutboundMedia] = Field(default_factory=list)
    content_sid: str | None = Field(None, description="A template, for business-initiated WhatsApp contact.")

    @property
    def idempotency_key(self) -> str:
        """One send per message and participant, however often the command is delivered."""
        return f"{self.message_sid}/{self.participant_sid}"


class DeliveryReceiptReport(BaseModel):
    """What the provider said about one send: becomes a DY receipt on the conversation message."""

    model_config = ConfigDict(extra="ignore")

    conversation_sid: str
    message_sid: str
    participant_sid: str
    channel_message_sid: str | None = Field(
        default=None, description="The provider's id of the sent message (SM…, wamid…); none when it never took it.")
    status: Literal["sent", "delivered", "read", "undelivered", "failed"]
    error_code: int = 0
    reported_at: datetime


class ProviderStatusReport(BaseModel):
    """A provider's status callback about one of Parley's sends, as it came: the broker keeps it (the callback is
    answered once it is confirmed) until ingress records it on the send, so a database outage loses none."""

    model_config = ConfigDict(extra="ignore")

    provider_sid: str
    channel_message_sid: str = Field(description="The provider's id of the sent message (SM…, wamid…).")
    status: str = Field(description="The provider's status, lower case: queued, sent, delivered, read, failed…")
    error_code: int | None = None
    reported_at: datetime
