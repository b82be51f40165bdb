"""Optional filters become numbered conditions; absent ones vanish."""

from shared.sql import Query


def test_only_given_filters_become_conditions_numbered_in_order() -> None:
    query = Query().where("account_sid = {}", "AC1")
    query.maybe("state = {}", None).maybe("date_created >= {}", "2026-01-01")
    query.where("(date_created, sid) > ({}, {})", "2026-02-01", "CH1")
    limit = query.param(50)
    assert query.clause() == "account_sid = $1 AND date_created >= $2 AND (date_created, sid) > ($3, $4)"
    assert limit == "$5"
    assert query.params == ["AC1", "2026-01-01", "2026-02-01", "CH1", 50]


def test_no_filters_match_everything() -> None:
    assert Query().clause() == "true"
