"""Circuit breakers per endpoint: after repeated failures an endpoint is left alone for a while.

While a circuit is open its deliveries are not claimed, so they wait without spending their retry
budget and the dispatcher's slots go to endpoints that answer. When the cool-down ends the circuit
is half-open: the next attempt is a probe; success closes it, failure opens it again at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CircuitBreakers:
    threshold: int  # consecutive failures that open a circuit
    cooldown_seconds: float
    _failures: dict[str, int] = field(default_factory=dict)
    _open_until: dict[str, float] = field(default_factory=dict)

    def record(self, endpoint: str, *, answered: bool, now: float) -> None:
        """`answered`: the endpoint responded (2xx, or a refusal that retrying cannot fix); else it failed."""
        if answered:
            self._failures.pop(endpoint, None)
            self._open_until.pop(endpoint, None)
            return
        failures = self._failures.get(endpoint, 0) + 1
        self._failures[endpoint] = failures
        if failures >= self.threshold:
            self._open_until[endpoint] = now + self.cooldown_seconds

    def open_endpoints(self, now: float) -> list[str]:
        return sorted(endpoint for endpoint, until in self._open_until.items() if until > now)
