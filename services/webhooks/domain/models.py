"""The webhooks service's resources as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

DeliveryStatus = Literal["pending", "retrying", "delivered", "failed"]
DELIVERY_STATUSES: tuple[str, ...] = ("pending", "retrying", "delivered", "failed")
DeadLetterStatus = Literal["parked", "replayed"]
DEAD_LETTER_STATUSES: tuple[str, ...] = ("parked", "replayed")


@dataclass(frozen=True)
class Delivery:
    """One event to one URL, and where its delivery stands."""

    sid: str
    seq: int
    account_sid: str
    event_type: str
    target: str
    url: str
    endpoint: str
    method: str
    params: list[tuple[str, str]]
    resource_sid: str | None
    ordering_key: str | None
    timeout_seconds: float | None
    status: str
    attempt_count: int
    budget_start: int  # attempts made before the last replay; the budget counts from here
    replays: int
    next_attempt_at: datetime | None
    error: str | None
    date_created: datetime
    date_updated: datetime
    json_body: Any = None  # when not None, POSTed as JSON instead of `params` (bodySHA256 signature)

    @property
    def attempts_in_budget(self) -> int:
        return self.attempt_count - self.budget_start


AttemptStatus = Literal["in_flight", "completed", "unknown"]


@dataclass(frozen=True)
class Attempt:
    """One request of a delivery, logged before it goes out: `in_flight` until its outcome is recorded
    (`completed`); `unknown` when its dispatcher went away first, so the receiver may or may not have it."""

    delivery_sid: str
    number: int
    status: AttemptStatus
    date_attempted: datetime
    response_code: int | None
    latency_ms: int | None
    error: str | None


@dataclass(frozen=True)
class DeadLetter:
    """A message the fabric gave up on (a broker dead letter), or a webhook delivery that was parked."""

    sid: str
    seq: int
    account_sid: str | None
    source: str  # broker | webhook
    queue: str
    routing_key: str
    reason: str
    error: str | None
    message_id: str | None
    payload: Any
    body: bytes | None
    headers: dict[str, Any]
    delivery_sid: str | None
    status: str
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class DeliveryFilters:
    """The list and bulk-replay filters of `/parley/v1/WebhookDeliveries`."""

    status: str | None = None
    event_type: str | None = None
    target: str | None = None
    resource_sid: str | None = None
    url: str | None = None

    def as_params(self) -> list[tuple[str, str]]:
        named = [("Status", self.status), ("EventType", self.event_type), ("Target", self.target),
                 ("ResourceSid", self.resource_sid), ("Url", self.url)]
        return [(name, value) for name, value in named if value is not None]

    def is_empty(self) -> bool:
        return not self.as_params()
