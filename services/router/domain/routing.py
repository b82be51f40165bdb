"""The routing rules as pure functions: which step a task is in, which worker takes it, in what order.

A step is one target of one filter (or the default filter). Step deadlines are cumulative and
measured from the task's creation, as TaskRouter does; reservations restart their own clock.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.router.domain.expressions import MISSING, Expression, parse, resolver_for, scope_for
from services.router.domain.workflow_config import OrderKey, RoutingConfig, Target, parse_configuration

DEFAULT_FILTER = None


@dataclass(frozen=True)
class Step:
    filter_index: int | None  # None: the default filter
    target_index: int
    queue_sid: str
    priority: int
    expression: str | None = None
    order_by: str | None = None
    skip_if: str | None = None
    known_worker: str | None = None  # a worker SID, or a friendly name when by_friendly_name
    by_friendly_name: bool = False
    deadline_seconds: int | None = None  # task age at which this step gives up


@functools.lru_cache(maxsize=1024)
def routing_config(text: str) -> RoutingConfig:
    """Configurations were checked at write time; parsing again per task would waste the hot path."""
    return parse_configuration(text)


def _resolve_reference(reference: str, task_attributes: Mapping[str, Any]) -> str | None:
    """`task.agentId` names a task attribute; anything else is taken literally."""
    if reference.startswith("task."):
        value = resolver_for(task_attributes)(tuple(reference[5:].split(".")))
        return None if value is MISSING or value is None else str(value)
    return reference


def _order_text(keys: Sequence[OrderKey]) -> str | None:
    if not keys:
        return None
    return ", ".join(".".join(key.path) + (" DESC" if key.descending else " ASC") for key in keys)


def _step(config: RoutingConfig, filter_index: int, target_index: int, task_priority: int,
          task_attributes: Mapping[str, Any]) -> Step:
    targets = config.filters[filter_index].targets
    target: Target = targets[target_index]
    timeouts = [t.timeout for t in targets[: target_index + 1]]
    deadline = sum(t for t in timeouts if t is not None) if target.timeout is not None else None
    known = target.known_worker_sid or target.known_worker_friendly_name
    return Step(
        filter_index=filter_index, target_index=target_index, queue_sid=target.queue,
        priority=target.priority if target.priority is not None else task_priority,
        expression=target.expression, order_by=_order_text(target.order_by), skip_if=target.skip_if,
        known_worker=_resolve_reference(known, task_attributes) if known else None,
        by_friendly_name=target.known_worker_sid is None and target.known_worker_friendly_name is not None,
        deadline_seconds=deadline,
    )


def _default_step(config: RoutingConfig, task_priority: int) -> Step | None:
    if config.default_queue is None:
        return None
    return Step(filter_index=DEFAULT_FILTER, target_index=0, queue_sid=config.default_queue, priority=task_priority)


def first_step(config: RoutingConfig, task_attributes: Mapping[str, Any], task_priority: int) -> Step | None:
    """The first filter whose expression matches, at its first target; else the default filter."""
    resolve = resolver_for(task_attributes)
    for index, candidate in enumerate(config.filters):
        if parse(candidate.expression).evaluate(resolve):
            return _step(config, index, 0, task_priority, task_attributes)
    return _default_step(config, task_priority)


def next_step(config: RoutingConfig, current: Step, task_attributes: Mapping[str, Any], task_priority: int) -> Step | None:
    """Where a task goes when its step times out or is skipped: the next target, then the default filter."""
    if current.filter_index is DEFAULT_FILTER:
        return None
    if current.filter_index >= len(config.filters):
        return _default_step(config, task_priority)
    targets = config.filters[current.filter_index].targets
    if current.target_index + 1 < len(targets):
        return _step(config, current.filter_index, current.target_index + 1, task_priority, task_attributes)
    return _default_step(config, task_priority)


def step_deadline(step: Step, task_created: datetime) -> datetime | None:
    from datetime import timedelta

    if step.deadline_seconds is None:
        return None
    return task_created + timedelta(seconds=step.deadline_seconds)


# ---------------------------------------------------------------------------------------- worker choice


@dataclass(frozen=True)
class Candidate:
    worker_sid: str
    friendly_name: str
    attributes: Mapping[str, Any]
    idle_since: datetime


def _sort_value(candidate: Candidate, key: OrderKey) -> tuple[int, Any]:
    value = resolver_for({"worker": candidate.attributes})(key.path)
    # Missing or non-comparable values sort last whatever the direction.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return (1, 0)
    if isinstance(value, str):
        return (0, (1, value))
    return (0, (0, value))


def order_candidates(candidates: Sequence[Candidate], order_by: Sequence[OrderKey]) -> list[Candidate]:
    """Longest idle first; `order_by` keys come before idleness, which stays the tie-breaker."""
    ordered = sorted(candidates, key=lambda c: (c.idle_since, c.worker_sid))
    for key in reversed(order_by):
        present = [c for c in ordered if _sort_value(c, key)[0] == 0]
        absent = [c for c in ordered if _sort_value(c, key)[0] == 1]
        present.sort(key=lambda c, k=key: _sort_value(c, k)[1], reverse=key.descending)  # type: ignore[misc]
        ordered = present + absent
    return ordered


def target_admits(expression: Expression | None, candidate: Candidate, task_attributes: Mapping[str, Any]) -> bool:
    """A target's extra expression sees `worker.*` and `task.*`."""
    if expression is None:
        return True
    return expression.evaluate(resolver_for(scope_for(worker=candidate.attributes, task=task_attributes)))


def queue_admits(target_workers: Expression, worker_attributes: Mapping[str, Any]) -> bool:
    """Queue membership: bare keys are worker attributes; `worker.x` is accepted too."""
    scope = {**worker_attributes, "worker": worker_attributes}
    return target_workers.evaluate(resolver_for(scope))


def choose_workers(candidates: Sequence[Candidate], *, task_attributes: Mapping[str, Any], expression: str | None,
                   order_by: Sequence[OrderKey], known_worker: str | None, by_friendly_name: bool,
                   wanted: int) -> list[Candidate]:
    """Up to `wanted` workers for one task, best first, from candidates already eligible on capacity."""
    parsed = parse(expression) if expression else None
    chosen: list[Candidate] = []
    for candidate in order_candidates(candidates, order_by):
        if known_worker is not None:
            identity = candidate.friendly_name if by_friendly_name else candidate.worker_sid
            if identity != known_worker:
                continue
        if not target_admits(parsed, candidate, task_attributes):
            continue
        chosen.append(candidate)
        if len(chosen) >= wanted:
            break
    return chosen


def skip_step(skip_if: str, *, available: int, unavailable: int, by_activity: Mapping[str, int]) -> bool:
    """`skip_if` sees the step's queue as `workers.available`, `workers.unavailable`, `workers.WA…`."""
    workers: dict[str, object] = {"available": available, "unavailable": unavailable, **by_activity}
    return parse(skip_if).evaluate(resolver_for({"workers": workers}))

