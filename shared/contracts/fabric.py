"""Messages about the fabric itself: a consumer reporting a failed attempt."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

CONSUMER_FAILED = "failure"


class ConsumerFailed(BaseModel):
    queue: str
    failed_message_id: uuid.UUID | None
    error: str
    delivery_count: int
