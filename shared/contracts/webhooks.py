"""Commands the webhooks service accepts: deliver this event to this URL."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DELIVER_WEBHOOK = "webhook.deliver"

WebhookTarget = Literal["address", "account", "service", "conversation", "workspace", "workflow"]


class WebhookDelivery(BaseModel):
    """One event to one target. The owner of the configuration has already applied its filters."""

    model_config = ConfigDict(extra="ignore")

    event_type: str = Field(description="Twilio's event name, e.g. onMessageAdded or task.created.")
    target: WebhookTarget
    url: str
    method: Literal["GET", "POST"] = "POST"
    params: list[tuple[str, str]] = Field(description="Form fields exactly as the receiver gets them.")
    resource_sid: str | None = Field(None, description="The conversation, task… the event is about.")
    ordering_key: str | None = Field(
        None, description="Deliveries with the same key to the same URL arrive in publication order."
    )
    timeout_seconds: float | None = None
