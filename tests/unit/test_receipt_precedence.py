"""Which provider report replaces a receipt's status, whatever order the reports arrive in."""

import pytest

from services.conversations.domain.delivery import supersedes


@pytest.mark.parametrize(("new", "previous", "replaces"), [
    ("sent", None, True), ("delivered", "sent", True), ("read", "delivered", True), ("read", "sent", True),
    ("sent", "delivered", False), ("delivered", "read", False), ("sent", "sent", False),
    ("failed", "sent", True), ("undelivered", "sent", True), ("sent", "undelivered", False),
    ("delivered", "failed", True),  # a carrier's late success report after a failed first hop
])
def test_a_status_already_passed_through_is_stale(new: str, previous: str | None, replaces: bool) -> None:
    assert supersedes(new, previous) is replaces
