"""Isolation between endpoints: which claimed candidates fit within each endpoint's concurrency limit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def saturated_endpoints(load: Mapping[str, int], *, per_endpoint: int) -> list[str]:
    """Endpoints with no free slot: their deliveries are not even looked at, so they cannot crowd out others."""
    return sorted(endpoint for endpoint, busy in load.items() if busy >= per_endpoint)


def within_endpoint_limits(
    candidates: Sequence[tuple[str, str]], *, load: Mapping[str, int], per_endpoint: int
) -> list[str]:
    """The candidates (sid, endpoint), in order, that fit in their endpoint's free slots."""
    taken: dict[str, int] = {}
    chosen: list[str] = []
    for sid, endpoint in candidates:
        busy = load.get(endpoint, 0) + taken.get(endpoint, 0)
        if busy < per_endpoint:
            taken[endpoint] = taken.get(endpoint, 0) + 1
            chosen.append(sid)
    return chosen
