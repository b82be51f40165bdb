"""Which claimed candidates fit within each endpoint's concurrency limit."""

from services.webhooks.domain.concurrency import saturated_endpoints, within_endpoint_limits


def test_candidates_beyond_an_endpoints_free_slots_wait() -> None:
    candidates = [("DL1", "a"), ("DL2", "a"), ("DL3", "b"), ("DL4", "a"), ("DL5", "b")]
    assert within_endpoint_limits(candidates, load={"a": 1}, per_endpoint=2) == ["DL1", "DL3", "DL5"]


def test_an_idle_endpoint_takes_up_to_its_limit() -> None:
    candidates = [(f"DL{n}", "a") for n in range(5)]
    assert within_endpoint_limits(candidates, load={}, per_endpoint=3) == ["DL0", "DL1", "DL2"]


def test_saturated_endpoints_are_those_without_a_free_slot() -> None:
    assert saturated_endpoints({"a": 8, "b": 7, "c": 9}, per_endpoint=8) == ["a", "c"]
