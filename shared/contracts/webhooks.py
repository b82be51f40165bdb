"""Commands the webhooks service accepts: deliver this event to this URL; ask this pre-event URL now (RPC)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DELIVER_WEBHOOK = "webhook.deliver"
ASK_PRE_EVENT = "webhook.pre_event"
PRE_EVENT_ANSWERED = "webhook.pre_event.answered"

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
    json_body: Any | None = Field(
        None, description="When given, POSTed as application/json instead of the form `params`, signed with the "
        "bodySHA256 variant (the URL gains ?bodySHA256=<hex sha256 of the body>).",
    )

    @model_validator(mode="after")
    def _json_is_posted(self) -> WebhookDelivery:
        if self.json_body is not None and self.method != "POST":
            raise ValueError("a JSON body is sent with POST only")
        return self


# "workflow": a TaskRouter AssignmentCallbackUrl, whose answer (an instruction) the router acts on.
PreEventTarget = Literal["account", "service", "workflow"]


class PreEventRequest(BaseModel):
    """Ask a business's pre-event URL whether (and how) an action may happen; the reply says (RPC).

    The envelope's account signs the call. `modifiable` names the snake_case fields the answer may
    change (Twilio: `friendly_name` for conversations; `body`, `author`, `attributes` for messages).
    """

    model_config = ConfigDict(extra="ignore")

    event_type: str = Field(description="Twilio's pre-event name, e.g. onMessageAdd.")
    target: PreEventTarget
    url: str
    method: Literal["GET", "POST"] = "POST"
    params: list[tuple[str, str]]
    modifiable: list[str] = Field(default_factory=list)
    timeout_seconds: float | None = None


PreEventOutcome = Literal["allowed", "blocked", "modified", "timed_out", "unanswered"]


class PreEventReply(BaseModel):
    """allowed: 2xx, nothing to change; modified: 2xx with JSON changing `fields`; blocked: any other status;
    timed_out / unanswered: no answer in time / none at all (network error, refused by the egress policy):
    the action goes ahead unchanged (Twilio's fail-open)."""

    model_config = ConfigDict(extra="ignore")

    outcome: PreEventOutcome
    status_code: int | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    error: str | None = None
    latency_ms: int = 0

    @property
    def blocks(self) -> bool:
        return self.outcome == "blocked"
