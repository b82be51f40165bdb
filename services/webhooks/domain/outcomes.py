"""What an attempt's result means, and what happens next: delivered, retry later, or give up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

from services.webhooks.domain.backoff import backoff_delay

Verdict = Literal["delivered", "retry", "fail"]

# A receiver asking for more than this is treated as asking for this much.
MAX_RETRY_AFTER_SECONDS = 3600.0
_RETRYABLE_CODES = {408, 429}


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    error: str | None = None
    retry_after: float | None = None


def outcome_of_response(status_code: int, *, retry_after: str | None = None, now: datetime | None = None) -> Outcome:
    """2xx delivered; 5xx, 408 and 429 worth retrying (honouring Retry-After); anything else refused for good."""
    if 200 <= status_code < 300:
        return Outcome("delivered")
    error = f"HTTP {status_code}"
    if status_code >= 500 or status_code in _RETRYABLE_CODES:
        return Outcome("retry", error, parse_retry_after(retry_after, now=now))
    return Outcome("fail", error)


def outcome_of_network_error(description: str) -> Outcome:
    """Connection refused, reset, timed out: the endpoint may be back later."""
    return Outcome("retry", description)


def outcome_of_refusal(description: str) -> Outcome:
    """The egress policy refused the URL (or there is nobody to sign for): retrying cannot help."""
    return Outcome("fail", description)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_SECONDS)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff_base: float
    backoff_max: float


@dataclass(frozen=True)
class NextStep:
    status: Literal["delivered", "retrying", "failed"]
    delay: float | None  # seconds until the next attempt, when retrying
    error: str | None
    reason: str | None  # why it was parked, in the dead letters' words


def next_step(outcome: Outcome, *, attempts_in_budget: int, policy: RetryPolicy, jitter: float) -> NextStep:
    """The delivery's state after an attempt; `attempts_in_budget` counts this attempt."""
    if outcome.verdict == "delivered":
        return NextStep("delivered", None, None, None)
    if outcome.verdict == "fail":
        return NextStep("failed", None, outcome.error, "rejected")
    if attempts_in_budget >= policy.max_attempts:
        error = f"gave up after {attempts_in_budget} attempts: {outcome.error}"
        return NextStep("failed", None, error, "delivery_limit")
    delay = backoff_delay(attempts_in_budget, base=policy.backoff_base, cap=policy.backoff_max, jitter=jitter)
    if outcome.retry_after is not None:
        delay = max(delay, outcome.retry_after)
    return NextStep("retrying", delay, outcome.error, None)


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt saw: the answer's status code (None when there was no answer) and what it means."""

    date_attempted: datetime
    latency_ms: int
    response_code: int | None
    outcome: Outcome

    @property
    def error(self) -> str | None:
        return self.outcome.error
