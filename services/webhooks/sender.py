"""One attempt at one delivery, or one pre-event call: signed with the account's auth token, sent under the
egress policy, judged."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

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
from services.webhooks.domain.pre_events import reply_of_answer
from shared.auth.accounts import AccountDirectory
from shared.contracts.webhooks import PreEventReply, PreEventRequest
from shared.egress import EgressRefused
from shared.outbound_http import AnswerTooLarge, OutboundHttp
from shared.signatures import json_body_url, twilio_signature

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


def json_body(value: Any) -> bytes:
    """The exact bytes of a JSON delivery: compact and stable, so retries carry (and sign) the same body."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def signed_request(url: str, *, method: str, params: Sequence[tuple[str, str]], body: Any | None, auth_token: str
                   ) -> tuple[str, dict[str, str], Sequence[tuple[str, str]] | None, bytes | None]:
    """(URL, headers, form data, raw content) of a request signed as Twilio signs it: form POSTs over the URL and
    the sorted fields; GETs over the URL with the fields in its query; JSON bodies by the bodySHA256 variant."""
    if body is not None:
        content = json_body(body)
        signed_url = json_body_url(url.partition("#")[0], content)
        return signed_url, {"X-Twilio-Signature": twilio_signature(signed_url, [], auth_token),
                            "Content-Type": "application/json"}, None, content
    is_post = method == "POST"
    full_url = request_url(url, method=method, params=params)
    signature = twilio_signature(full_url, params if is_post else [], auth_token)
    return full_url, {"X-Twilio-Signature": signature}, params if is_post else None, None


async def _send(outbound: OutboundHttp, delivery: Delivery, auth_token: str, *, timeout: float) -> tuple[Outcome, int | None]:
    url, signed, data, content = signed_request(delivery.url, method=delivery.method, params=delivery.params,
                                                body=delivery.json_body, auth_token=auth_token)
    headers = {
        **signed,
        # The delivery's SID: the same on every retry, takeover and replay, whichever instance sends it, so a
        # receiver can recognise a delivery it already handled (docs/architecture.md, Delivery).
        "I-Twilio-Idempotency-Token": delivery.sid,
        "User-Agent": USER_AGENT,
    }
    try:
        response = await outbound.request(delivery.method, url, data=data, content=content, timeout=timeout,
                                          headers=headers)
    except EgressRefused as error:
        return outcome_of_refusal(f"egress refused: {error}"), None
    except AnswerTooLarge as error:  # the status is the answer; a body that large is the receiver's problem
        return outcome_of_response(error.status_code), error.status_code
    except httpx.TimeoutException as error:
        return outcome_of_network_error(f"timed out after {timeout:g}s ({type(error).__name__})"), None
    except httpx.HTTPError as error:
        return outcome_of_network_error(f"{type(error).__name__}: {error}".rstrip(": ")), None
    return outcome_of_response(response.status_code, retry_after=response.headers.get("retry-after")), response.status_code


async def ask_pre_event(
    outbound: OutboundHttp, directory: AccountDirectory, request: PreEventRequest, *, account_sid: str,
    default_timeout: float,
) -> PreEventReply:
    """Call a pre-event URL once (no retries: the action is waiting) and say what its answer means."""
    account = await directory.get(account_sid)
    if account is None:
        return PreEventReply(outcome="unanswered", error=f"account {account_sid} does not exist")
    timeout = request.timeout_seconds or default_timeout
    url, signed, data, _ = signed_request(request.url, method=request.method, params=request.params, body=None,
                                          auth_token=account.auth_token)
    clock = time.monotonic()
    try:
        # One deadline for the whole call: a receiver trickling its answer is as late as a silent one.
        async with asyncio.timeout(timeout):
            response = await outbound.request(request.method, url, data=data, timeout=timeout,
                                              headers={**signed, "User-Agent": USER_AGENT})
    except EgressRefused as error:
        return PreEventReply(outcome="unanswered", error=f"egress refused: {error}")
    except AnswerTooLarge as error:
        return PreEventReply(outcome="unanswered", error=str(error), latency_ms=int((time.monotonic() - clock) * 1000))
    except (TimeoutError, httpx.TimeoutException):
        return PreEventReply(outcome="timed_out", error=f"no answer within {timeout:g}s",
                             latency_ms=int((time.monotonic() - clock) * 1000))
    except httpx.HTTPError as error:
        return PreEventReply(outcome="unanswered", error=f"{type(error).__name__}: {error}".rstrip(": "),
                             latency_ms=int((time.monotonic() - clock) * 1000))
    return reply_of_answer(response.status_code, response.content, modifiable=request.modifiable,
                           latency_ms=int((time.monotonic() - clock) * 1000))
