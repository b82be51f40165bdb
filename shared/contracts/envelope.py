"""The envelope every broker message travels in; `type` equals the routing key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

P = TypeVar("P", bound=BaseModel)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel, Generic[P]):
    model_config = ConfigDict(extra="ignore")

    message_id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique; the idempotency key.")
    type: str = Field(description="Equal to the routing key, e.g. `message.added`.")
    account_sid: str
    occurred_at: datetime = Field(default_factory=utc_now)
    correlation_id: str | None = None
    payload: P

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


_PARAMETRIZED: dict[type, Any] = {}  # Envelope[X] is costly to look up on hot paths


def make_envelope(
    type_: str, payload: BaseModel, *, account_sid: str, correlation_id: str | None = None
) -> Envelope[Any]:
    kind = type(payload)
    envelope_type = _PARAMETRIZED.get(kind)
    if envelope_type is None:
        envelope_type = _PARAMETRIZED[kind] = Envelope[kind]  # type: ignore[valid-type]
    return envelope_type(
        type=type_, account_sid=account_sid, payload=payload, correlation_id=correlation_id
    )
