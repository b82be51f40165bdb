"""A message's `delivery` summary, aggregated from its receipts as Twilio shows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RECEIPT_STATUSES = ("sent", "delivered", "read", "failed", "undelivered")
# A receipt that reached a later status passed through the earlier ones.
_IMPLIES = {"sent": {"sent"}, "delivered": {"sent", "delivered"}, "read": {"sent", "delivered", "read"},
            "failed": {"failed"}, "undelivered": {"sent", "undelivered"}}


def delivery_summary(status_counts: Mapping[str, int]) -> dict[str, Any] | None:
    """`{total, sent, delivered, read, failed, undelivered}` with "all" / "some" / "none"; None without receipts."""
    total = sum(status_counts.values())
    if total == 0:
        return None
    reached = dict.fromkeys(RECEIPT_STATUSES, 0)
    for status, count in status_counts.items():
        for implied in _IMPLIES.get(status, ()):
            reached[implied] += count
    return {"total": total, **{status: _share(reached[status], total) for status in RECEIPT_STATUSES}}


def _share(count: int, total: int) -> str:
    return "all" if count == total else "some" if count else "none"


def supersedes(new: str, previous: str | None) -> bool:
    """Whether a provider's report replaces the receipt's status. Reports arrive out of order (a late
    `sent` after `delivered`); a status the receipt already passed through, per `_IMPLIES`, is stale."""
    if previous is None:
        return True
    return new != previous and new not in _IMPLIES.get(previous, set())
