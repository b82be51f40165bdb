"""Outbound sends as plain rules: what a provider's answer means, when to retry, which statuses become receipts."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Literal

# The states of Parley's own work on a send (the provider's view of it is `provider_status`).
PENDING = "pending"  # waiting for its turn (first attempt or a retry)
SENDING = "sending"  # an attempt is in flight, leased by one sender
SUBMITTED = "submitted"  # the provider took it and named it (SM…, wamid…)
FAILED = "failed"  # parked: the provider refused it or the budget ran out

# Statuses a provider reports that become delivery receipts; the others only update the send record.
RECEIPT_STATUSES = ("sent", "delivered", "read", "undelivered", "failed")
RECORD_ONLY_STATUSES = ("accepted", "scheduled", "queued", "sending")
# How far a message has got, by the provider's word; a late callback never moves the record back.
STATUS_PROGRESSION = ("accepted", "scheduled", "queued", "sending", "sent", "undelivered", "failed", "delivered", "read")
ReceiptStatus = Literal["sent", "delivered", "read", "undelivered", "failed"]

# Twilio's own codes where Twilio has one; Parley's 9xxxx otherwise.
PROVIDER_UNREACHABLE = 90110  # network error or timeout, every attempt
PROVIDER_ERROR = 30008  # Twilio's "unknown error": the provider answered an error without a code of its own
NO_PROVIDER = 90112  # no provider of the account lists the From address
PROVIDER_MISCONFIGURED = 90113  # the provider lacks a credential sending needs
OUTSIDE_WHATSAPP_WINDOW = 63016  # Twilio: free-form message outside the 24-hour window; use a template
UNKNOWN_TEMPLATE = 63027  # Twilio: template does not exist for this language/locale
OUTCOME_UNKNOWN = 90114  # the last attempt's claim expired unanswered (its sender stopped mid-attempt)
ANSWER_NOT_RECORDED = 90115  # the provider's answer could not be recorded (an id it gave another send already)


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: `accepted` (with the provider's id), `retry` or `refused` (final)."""

    kind: Literal["accepted", "retry", "refused"]
    channel_message_sid: str | None = None
    provider_status: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    retry_after_seconds: float | None = None


def accepted(channel_message_sid: str, provider_status: str | None) -> Outcome:
    return Outcome("accepted", channel_message_sid=channel_message_sid, provider_status=provider_status)


def refused(code: int, message: str) -> Outcome:
    return Outcome("refused", error_code=code, error_message=message)


def unreachable(reason: str) -> Outcome:
    return Outcome("retry", error_code=PROVIDER_UNREACHABLE, error_message=f"Provider unreachable: {reason}")


def is_retryable_status(status_code: int) -> bool:
    return status_code == 429 or status_code >= 500


def read_error_body(body: bytes) -> tuple[int | None, str | None]:
    """The provider's own error code and message, from Twilio's (`code`, `message`) or Meta's (`error`) JSON."""
    try:
        data = json.loads(body)
    except ValueError:
        return None, body.decode(errors="replace")[:500] or None
    if not isinstance(data, dict):
        return None, None
    nested = data.get("error")
    error: dict[str, object] = nested if isinstance(nested, dict) else data
    code = error.get("code")
    message = error.get("message") or error.get("error_user_msg")
    return (code if isinstance(code, int) else None), (str(message)[:500] if message else None)


def http_error(status_code: int, body: bytes, *, retry_after: str | None = None) -> Outcome:
    """A non-2xx answer: retried on 5xx and 429, final otherwise; the provider's code and words kept."""
    code, message = read_error_body(body)
    described = f"Provider answered HTTP {status_code}" + (f": {message}" if message else "")
    if is_retryable_status(status_code):
        return Outcome("retry", error_code=code or PROVIDER_ERROR, error_message=described,
                       retry_after_seconds=_seconds(retry_after))
    return refused(code or PROVIDER_ERROR, described)


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None  # an HTTP date; the backoff applies instead


def backoff_seconds(attempts: int, *, base: float, maximum: float, retry_after: float | None = None) -> float:
    """Exponential backoff after the `attempts`-th failure; a provider's Retry-After wins when longer."""
    delay = min(base * (2 ** max(attempts - 1, 0)), maximum)
    return float(max(delay, min(retry_after, maximum))) if retry_after is not None else float(delay)


def budget_spent(send: Send, max_attempts: int) -> bool:
    """Whether the send has had every attempt it may have: no further one goes to the provider."""
    return send.attempts >= max_attempts


def spent_budget_error(send: Send) -> tuple[int, str]:
    """The error a send is parked with when it comes due with every attempt spent. Taken back from an expired
    claim, its last attempt may or may not have reached the provider, and none may follow; otherwise (the
    budget was lowered meanwhile) the last error it met."""
    if send.state != SENDING:
        return send.error_code or PROVIDER_UNREACHABLE, send.error_message or "Send failed"
    before = f"; the error before it: {send.error_message}" if send.error_message else ""
    return OUTCOME_UNKNOWN, (f"The last attempt (attempt {send.attempts}) was never answered: its sender stopped, "
                             f"or could not record the provider's answer, before its claim expired{before}")[:2000]


_STATUS_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://parley/ingress/provider-status")


def status_report_id(provider_sid: str, channel_message_sid: str, status: str, error_code: int | None) -> uuid.UUID:
    """The same for a provider's retry of one status callback, so the broker message is the same one."""
    return uuid.uuid5(_STATUS_NAMESPACE, f"{provider_sid}/{channel_message_sid}/{status}/{error_code or ''}")


def receipt_status(provider_status: str) -> ReceiptStatus | None:
    """The receipt a provider status becomes, or None when it only updates the send record."""
    lowered = provider_status.lower()
    for status in RECEIPT_STATUSES:
        if lowered == status:
            return status  # type: ignore[return-value]
    return None


@dataclass(frozen=True)
class Send:
    """One conversation message on its way to one participant, as the send record holds it."""

    id: int
    account_sid: str
    conversation_sid: str
    message_sid: str
    participant_sid: str
    channel: str
    provider_sid: str | None
    from_address: str
    to_address: str
    body: str
    media_urls: tuple[str, ...]
    media_content_types: tuple[str, ...]
    content_sid: str | None
    state: str
    attempts: int
    channel_message_sid: str | None
    provider_status: str | None
    error_code: int | None
    error_message: str | None
