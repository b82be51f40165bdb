"""What an answer means (delivered, retry, give up) and what a delivery does next."""

from datetime import UTC, datetime

import pytest

from services.webhooks.domain.outcomes import (
    MAX_RETRY_AFTER_SECONDS,
    Outcome,
    RetryPolicy,
    next_step,
    outcome_of_network_error,
    outcome_of_refusal,
    outcome_of_response,
    parse_retry_after,
)

POLICY = RetryPolicy(max_attempts=4, backoff_base=1.0, backoff_max=60.0)


@pytest.mark.parametrize("code", [200, 201, 202, 204, 299])
def test_any_2xx_is_delivered(code: int) -> None:
    assert outcome_of_response(code) == Outcome("delivered")


@pytest.mark.parametrize("code", [500, 502, 503, 504, 599, 408, 429])
def test_server_errors_timeouts_and_throttling_are_retried(code: int) -> None:
    outcome = outcome_of_response(code)
    assert outcome.verdict == "retry" and outcome.error == f"HTTP {code}"


@pytest.mark.parametrize("code", [301, 302, 304, 400, 401, 403, 404, 405, 410, 413, 422])
def test_other_answers_are_refusals_that_retrying_cannot_fix(code: int) -> None:
    assert outcome_of_response(code) == Outcome("fail", f"HTTP {code}")


def test_network_errors_are_retried_and_egress_refusals_are_not() -> None:
    assert outcome_of_network_error("ConnectError: refused").verdict == "retry"
    assert outcome_of_refusal("egress refused").verdict == "fail"


def test_retry_after_reads_seconds_and_http_dates_and_ignores_garbage() -> None:
    now = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 7 ") == 7.0
    assert parse_retry_after("Wed, 25 Nov 2026 10:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 25 Nov 2026 09:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("99999999") == MAX_RETRY_AFTER_SECONDS


def test_throttled_answer_carries_its_retry_after() -> None:
    assert outcome_of_response(429, retry_after="5").retry_after == 5.0
    assert outcome_of_response(503, retry_after="2").retry_after == 2.0


def test_delivered_ends_the_delivery() -> None:
    step = next_step(Outcome("delivered"), attempts_in_budget=3, policy=POLICY, jitter=0.5)
    assert (step.status, step.delay, step.error) == ("delivered", None, None)


def test_a_refusal_parks_at_once_as_rejected() -> None:
    step = next_step(Outcome("fail", "HTTP 404"), attempts_in_budget=1, policy=POLICY, jitter=0.5)
    assert (step.status, step.reason, step.error) == ("failed", "rejected", "HTTP 404")


def test_retry_waits_the_backoff_within_the_budget() -> None:
    step = next_step(Outcome("retry", "HTTP 500"), attempts_in_budget=2, policy=POLICY, jitter=0.0)
    assert (step.status, step.delay, step.error) == ("retrying", 1.0, "HTTP 500")


def test_retry_after_longer_than_the_backoff_wins() -> None:
    step = next_step(Outcome("retry", "HTTP 429", retry_after=30.0), attempts_in_budget=1, policy=POLICY, jitter=0.9)
    assert step.delay == 30.0


def test_the_last_attempt_of_the_budget_parks_the_delivery_with_its_last_error() -> None:
    step = next_step(Outcome("retry", "ConnectError: refused"), attempts_in_budget=4, policy=POLICY, jitter=0.5)
    assert step.status == "failed" and step.reason == "delivery_limit"
    assert step.error == "gave up after 4 attempts: ConnectError: refused"
