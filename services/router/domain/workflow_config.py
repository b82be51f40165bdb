"""A workflow's `Configuration` JSON: read, checked at write time, kept as routing steps.

Every expression is parsed with the TaskRouter grammar, so a fault is reported where it is
(`filter 0, target 1, expression: ... at position 12`) before the workflow is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from services.router.domain.expressions import ExpressionError, parse


class ConfigurationError(ValueError):
    """The configuration cannot route; the message says where and why."""


@dataclass(frozen=True)
class OrderKey:
    path: tuple[str, ...]  # e.g. ("worker", "level")
    descending: bool


@dataclass(frozen=True)
class Target:
    queue: str
    expression: str | None = None
    priority: int | None = None
    timeout: int | None = None
    order_by: tuple[OrderKey, ...] = ()
    skip_if: str | None = None
    known_worker_sid: str | None = None
    known_worker_friendly_name: str | None = None


@dataclass(frozen=True)
class Filter:
    name: str
    expression: str
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class RoutingConfig:
    filters: tuple[Filter, ...] = ()
    default_queue: str | None = None
    queues: frozenset[str] = field(default_factory=frozenset)


def _expression(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"{where} must be a string")
    try:
        parse(value)
    except ExpressionError as error:
        raise ConfigurationError(f"{where} is invalid: {error.message} at position {error.position}") from error
    return value


def _integer(value: Any, where: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigurationError(f"{where} must be an integer")
    try:
        number = int(value)
    except ValueError as error:
        raise ConfigurationError(f"{where} must be an integer") from error
    if number < minimum:
        raise ConfigurationError(f"{where} must be at least {minimum}")
    return number


def parse_order_by(text: str, where: str = "order_by") -> tuple[OrderKey, ...]:
    keys: list[OrderKey] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2:
            raise ConfigurationError(f"{where} has an empty or malformed term: '{part.strip()}'")
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if direction not in ("ASC", "DESC"):
            raise ConfigurationError(f"{where}: '{words[1]}' is neither ASC nor DESC")
        path = tuple(words[0].split("."))
        if path[0] != "worker" or len(path) < 2 or not all(path):
            raise ConfigurationError(f"{where}: '{words[0]}' must be a worker attribute, like worker.level")
        keys.append(OrderKey(path=path, descending=direction == "DESC"))
    return tuple(keys)


def _target(raw: Any, where: str, previous_queue: str | None) -> Target:
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{where} must be an object")
    queue = raw.get("queue", previous_queue)
    if not isinstance(queue, str) or not queue:
        raise ConfigurationError(f"{where} needs a queue")
    known_sid = raw.get("known_worker_sid")
    known_name = raw.get("known_worker_friendly_name")
    for name, value in (("known_worker_sid", known_sid), ("known_worker_friendly_name", known_name)):
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{where}.{name} must be a string")
    return Target(
        queue=queue,
        expression=_expression(raw["expression"], f"{where}.expression") if raw.get("expression") else None,
        priority=_integer(raw["priority"], f"{where}.priority", minimum=0) if "priority" in raw else None,
        timeout=_integer(raw["timeout"], f"{where}.timeout", minimum=1) if "timeout" in raw else None,
        order_by=parse_order_by(raw["order_by"], f"{where}.order_by") if raw.get("order_by") else (),
        skip_if=_expression(raw["skip_if"], f"{where}.skip_if") if raw.get("skip_if") else None,
        known_worker_sid=known_sid,
        known_worker_friendly_name=known_name,
    )


def parse_configuration(text: str) -> RoutingConfig:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ConfigurationError(f"Configuration is not valid JSON: {error}") from error
    routing = document.get("task_routing") if isinstance(document, dict) else None
    if not isinstance(routing, dict):
        raise ConfigurationError("Configuration must hold a task_routing object")
    raw_filters = routing.get("filters", [])
    if not isinstance(raw_filters, list):
        raise ConfigurationError("task_routing.filters must be a list")
    filters: list[Filter] = []
    queues: set[str] = set()
    for index, raw in enumerate(raw_filters):
        where = f"task_routing.filters[{index}]"
        if not isinstance(raw, dict):
            raise ConfigurationError(f"{where} must be an object")
        raw_targets = raw.get("targets")
        if not isinstance(raw_targets, list) or not raw_targets:
            raise ConfigurationError(f"{where}.targets must be a non-empty list")
        targets: list[Target] = []
        previous: str | None = None
        for number, raw_target in enumerate(raw_targets):
            target = _target(raw_target, f"{where}.targets[{number}]", previous)
            previous = target.queue
            queues.add(target.queue)
            targets.append(target)
        name = raw.get("filter_friendly_name") or raw.get("friendly_name") or f"filter {index}"
        filters.append(Filter(name=str(name), expression=_expression(raw.get("expression"), f"{where}.expression"),
                              targets=tuple(targets)))
    default = routing.get("default_filter")
    default_queue: str | None = None
    if default is not None:
        if not isinstance(default, dict) or not isinstance(default.get("queue"), str):
            raise ConfigurationError("task_routing.default_filter must be an object with a queue")
        default_queue = default["queue"]
        queues.add(default_queue)
    if not filters and default_queue is None:
        raise ConfigurationError("task_routing needs at least one filter or a default_filter")
    return RoutingConfig(filters=tuple(filters), default_queue=default_queue, queues=frozenset(queues))
