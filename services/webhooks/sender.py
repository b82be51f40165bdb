"""One attempt at one delivery: signed with the account's auth token, sent under the egress policy, judged."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from services.webhooks.domain.endpoints import request_url
from services.webhooks.domain.models import Delivery
from services.webhooks.domain.outcomes import (
    AttemptResult,
    Outcome,
    outcome_of_network_error,
    outcome_of_refusal,
    outcome_of_response,
)
from shared.auth.accounts import AccountDirectory
from shared.egress import EgressRefused
from shared.outbound_http import OutboundHttp
from shared.signatures import twilio_signature

USER_AGENT = "TwilioProxy/1.1"


async def attempt_delivery(
    outbound: OutboundHttp, directory: AccountDirectory, delivery: Delivery, *, default_timeout: float
) -> AttemptResult:
    """Send the delivery once; never raises for what the endpoint or the network did."""
    started = datetime.now(UTC)
    clock = time.monotonic()
    response_code: int | None = None
    account = await directory.get(delivery.account_sid)
    if account is None:
        outcome = outcome_of_refusal(f"account {delivery.account_sid} does not exist, so nobody can sign the request")
    else:
        outcome, response_code = await _send(outbound, delivery, account.auth_token,
                                             timeout=delivery.timeout_seconds or default_timeout)
    latency_ms = int((time.monotonic() - clock) * 1000)
    return AttemptResult(date_attempted=started, latency_ms=latency_ms, response_code=response_code, outcome=outcome)


async def _send(outbound: OutboundHttp, delivery: Delivery, auth_token: str, *, timeout: float) -> tuple[Outcome, int | None]:
    is_post = delivery.method == "POST"
    url = request_url(delivery.url, method=delivery.method, params=delivery.params)
    headers = {
        "X-Twilio-Signature": twilio_signature(url, delivery.params if is_post else [], auth_token),
        # Stable across retries and replays, so a receiver can recognise a delivery it already handled.
        "I-Twilio-Idempotency-Token": delivery.sid,
        "User-Agent": USER_AGENT,
    }
    try:
        response = await outbound.request(
            delivery.method, url, data=delivery.params if is_post else None, timeout=timeout, headers=headers
        )
    except EgressRefused as error:
        return outcome_of_refusal(f"egress refused: {error}"), None
    except httpx.TimeoutException as error:
        return outcome_of_network_error(f"timed out after {timeout:g}s ({type(error).__name__})"), None
    except httpx.HTTPError as error:
        return outcome_of_network_error(f"{type(error).__name__}: {error}".rstrip(": ")), None
    return outcome_of_response(response.status_code, retry_after=response.headers.get("retry-after")), response.status_code
