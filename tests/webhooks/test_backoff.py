"""Backoff between attempts: exponential, capped, jittered within the upper half of its ceiling."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.webhooks.domain.backoff import backoff_delay


def test_ceiling_doubles_per_attempt_until_the_cap() -> None:
    ceilings = [backoff_delay(attempt, base=1.0, cap=10.0, jitter=1.0) for attempt in range(1, 7)]
    assert ceilings == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_no_jitter_waits_half_the_ceiling() -> None:
    assert backoff_delay(3, base=1.0, cap=300.0, jitter=0.0) == 2.0


def test_attempt_numbers_start_at_one() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        backoff_delay(0, base=1.0, cap=10.0, jitter=0.5)


@given(
    attempt=st.integers(min_value=1, max_value=10_000),
    base=st.floats(min_value=0.001, max_value=60.0),
    cap=st.floats(min_value=0.001, max_value=3600.0),
    jitter=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_delay_stays_between_half_the_ceiling_and_the_ceiling(attempt: int, base: float, cap: float, jitter: float) -> None:
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 62))
    delay = backoff_delay(attempt, base=base, cap=cap, jitter=jitter)
    assert ceiling / 2 <= delay <= ceiling <= cap


@given(attempt=st.integers(min_value=1, max_value=100), jitter=st.floats(min_value=0.0, max_value=1.0))
def test_a_later_attempt_never_has_a_lower_floor(attempt: int, jitter: float) -> None:
    assert backoff_delay(attempt + 1, base=0.5, cap=300.0, jitter=0.0) >= backoff_delay(
        attempt, base=0.5, cap=300.0, jitter=0.0)
