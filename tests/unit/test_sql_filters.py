"""Optional filters become numbered conditions; absent ones vanish."""

from shared.sql import Filters


def test_only_given_filters_become_conditions_numbered_in_order() -> None:
    filters = Filters(["account_sid = $1"], ["AC1"])
    filters.add("state = {}", None)
    filters.add("date_created >= {}", "2026-01-01")
    filters.add("(date_created, sid) > ({}, {})", "2026-02-01", "CH1")
    limit = filters.placeholder(50)
    assert filters.sql == "account_sid = $1 AND date_created >= $2 AND (date_created, sid) > ($3, $4)"
    assert limit == "$5"
    assert filters.values == ["AC1", "2026-01-01", "2026-02-01", "CH1", 50]


def test_no_filters_match_everything() -> None:
    assert Filters().sql == "true"
