"""The routing rules as pure functions: workflow configuration, steps, worker choice, skip_if, lifecycle."""

from datetime import UTC, datetime, timedelta

import pytest

from services.router.domain.expressions import parse
from services.router.domain.lifecycle import reservation_may_move, task_may_move
from services.router.domain.routing import (
    Candidate,
    choose_workers,
    first_step,
    next_step,
    queue_admits,
    skip_step,
    step_deadline,
)
from services.router.domain.workflow_config import ConfigurationError, parse_configuration

Q1, Q2, Q3, DEFAULT = "WQ" + "1" * 32, "WQ" + "2" * 32, "WQ" + "3" * 32, "WQ" + "d" * 32
CONFIG = parse_configuration(
    '{"task_routing": {"filters": ['
    f'{{"filter_friendly_name": "vip", "expression": "vip == true", "targets": ['
    f'{{"queue": "{Q1}", "timeout": 10, "priority": 50}}, {{"queue": "{Q2}", "timeout": 10}}, {{"timeout": 5}}]}},'
    f'{{"expression": "1==1", "targets": [{{"queue": "{Q3}"}}]}}],'
    f'"default_filter": {{"queue": "{DEFAULT}"}}}}}}'
)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_first_matching_filter_wins_and_target_priority_overrides_the_task() -> None:
    step = first_step(CONFIG, {"vip": True}, 3)
    assert step is not None and (step.filter_index, step.target_index, step.queue_sid, step.priority) == (0, 0, Q1, 50)
    plain = first_step(CONFIG, {"vip": False}, 3)
    assert plain is not None and (plain.queue_sid, plain.priority) == (Q3, 3)


def test_step_deadlines_are_cumulative_and_a_queueless_target_keeps_the_queue() -> None:
    step = first_step(CONFIG, {"vip": True}, 0)
    assert step is not None and step_deadline(step, NOW) == NOW + timedelta(seconds=10)
    second = next_step(CONFIG, step, {"vip": True}, 0)
    assert second is not None and second.queue_sid == Q2 and step_deadline(second, NOW) == NOW + timedelta(seconds=20)
    third = next_step(CONFIG, second, {"vip": True}, 0)
    assert third is not None and third.queue_sid == Q2 and third.deadline_seconds == 25
    last = next_step(CONFIG, third, {"vip": True}, 0)
    assert last is not None and (last.filter_index, last.queue_sid) == (None, DEFAULT)
    assert next_step(CONFIG, last, {}, 0) is None


@pytest.mark.parametrize("text, fault", [
    ("{", "not valid JSON"),
    ('{"task_routing": {"filters": [{"expression": "a ==", "targets": [{"queue": "WQ1"}]}]}}',
     "task_routing.filters[0].expression is invalid"),
    ('{"task_routing": {"filters": [{"expression": "1==1", "targets": []}]}}', "non-empty"),
    ('{"task_routing": {"filters": [{"expression": "1==1", "targets": [{"timeout": 5}]}]}}', "needs a queue"),
    ('{"task_routing": {"filters": [{"expression": "1==1", "targets": [{"queue": "Q", "order_by": "level UP"}]}]}}',
     "order_by"),
    ('{"task_routing": {}}', "at least one filter"),
])
def test_bad_configurations_say_where_they_fail(text: str, fault: str) -> None:
    with pytest.raises(ConfigurationError, match=fault.replace("[", r"\[").replace("]", r"\]")):
        parse_configuration(text)


def _candidate(sid: str, idle_minutes: int, **attributes: object) -> Candidate:
    return Candidate(worker_sid=sid, friendly_name=sid.lower(), attributes=attributes,
                     idle_since=NOW - timedelta(minutes=idle_minutes))


def test_longest_idle_worker_wins_ties_and_order_by_comes_first() -> None:
    workers = [_candidate("WK1", 1, level=3), _candidate("WK2", 9, level=1), _candidate("WK3", 5, level=3)]
    pick = choose_workers(workers, task_attributes={}, expression=None, order_by=(), known_worker=None,
                          by_friendly_name=False, wanted=1)
    assert [c.worker_sid for c in pick] == ["WK2"]
    from services.router.domain.workflow_config import parse_order_by
    ordered = choose_workers(workers, task_attributes={}, expression=None, order_by=parse_order_by("worker.level DESC"),
                             known_worker=None, by_friendly_name=False, wanted=3)
    assert [c.worker_sid for c in ordered] == ["WK3", "WK1", "WK2"]


def test_target_expressions_see_worker_and_task_and_known_worker_narrows_to_one() -> None:
    workers = [_candidate("WK1", 5, region="us"), _candidate("WK2", 1, region="eu")]
    pick = choose_workers(workers, task_attributes={"region": "eu"}, expression="worker.region == task.region",
                          order_by=(), known_worker=None, by_friendly_name=False, wanted=1)
    assert [c.worker_sid for c in pick] == ["WK2"]
    known = choose_workers(workers, task_attributes={}, expression=None, order_by=(), known_worker="wk2",
                           by_friendly_name=True, wanted=2)
    assert [c.worker_sid for c in known] == ["WK2"]


def test_queue_membership_reads_bare_and_prefixed_worker_attributes() -> None:
    assert queue_admits(parse("skills HAS 'chat'"), {"skills": ["chat"]})
    assert queue_admits(parse("worker.skills HAS 'chat'"), {"skills": ["chat"]})
    assert not queue_admits(parse("skills HAS 'voice'"), {"skills": ["chat"]})


def test_skip_if_counts_the_queue_workers() -> None:
    assert skip_step("workers.available == 0", available=0, unavailable=4, by_activity={})
    assert not skip_step("workers.available == 0", available=1, unavailable=0, by_activity={})


def test_reservation_and_task_lifecycles_allow_only_twilio_moves() -> None:
    assert reservation_may_move("pending", "accepted") and reservation_may_move("accepted", "wrapping")
    assert reservation_may_move("wrapping", "completed") and not reservation_may_move("completed", "accepted")
    assert not reservation_may_move("rejected", "accepted") and not reservation_may_move("pending", "wrapping")
    assert task_may_move("reserved", "canceled") and not task_may_move("assigned", "canceled")
    assert task_may_move("assigned", "wrapping") and not task_may_move("completed", "wrapping")
