"""How long to wait before the next attempt: exponential, capped, with jitter so retries don't stampede."""

from __future__ import annotations


def backoff_delay(attempt: int, *, base: float, cap: float, jitter: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based).

    The ceiling doubles per attempt up to `cap`; `jitter` in [0, 1) picks a point in its upper half,
    so the wait never drops below half the ceiling and clients that failed together spread out.
    """
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 62))
    return ceiling / 2 + ceiling / 2 * min(max(jitter, 0.0), 1.0)
