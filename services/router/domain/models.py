"""TaskRouter resources as plain values, one field per column of the router's schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def attributes_of(text: str) -> dict[str, Any]:
    """User attributes JSON; anything that is not an object routes as if empty."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Workspace:
    sid: str
    account_sid: str
    friendly_name: str
    event_callback_url: str | None
    events_filter: str | None
    default_activity_sid: str | None
    timeout_activity_sid: str | None
    multi_task_enabled: bool
    prioritize_queue_order: str
    date_created: datetime
    date_updated: datetime

    def wants_event(self, event_type: str) -> bool:
        if not self.event_callback_url:
            return False
        if not self.events_filter:
            return True
        return event_type in {name.strip() for name in self.events_filter.split(",")}


@dataclass(frozen=True)
class Activity:
    sid: str
    account_sid: str
    workspace_sid: str
    friendly_name: str
    available: bool
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class TaskChannel:
    sid: str
    account_sid: str
    workspace_sid: str
    friendly_name: str
    unique_name: str
    channel_optimized_routing: bool | None
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class Worker:
    sid: str
    account_sid: str
    workspace_sid: str
    friendly_name: str
    attributes: str
    activity_sid: str
    activity_name: str
    available: bool
    date_status_changed: datetime
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class WorkerChannel:
    sid: str
    account_sid: str
    workspace_sid: str
    worker_sid: str
    task_channel_sid: str
    task_channel_unique_name: str
    configured_capacity: int
    available: bool
    assigned_tasks: int
    date_created: datetime
    date_updated: datetime

    @property
    def available_capacity_percentage(self) -> int:
        if self.configured_capacity <= 0:
            return 0
        free = max(self.configured_capacity - self.assigned_tasks, 0)
        return int(free * 100 / self.configured_capacity)


@dataclass(frozen=True)
class TaskQueue:
    sid: str
    account_sid: str
    workspace_sid: str
    friendly_name: str
    target_workers: str
    max_reserved_workers: int
    task_order: str
    reservation_activity_sid: str | None
    reservation_activity_name: str | None
    assignment_activity_sid: str | None
    assignment_activity_name: str | None
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class Workflow:
    sid: str
    account_sid: str
    workspace_sid: str
    friendly_name: str
    configuration: str
    assignment_callback_url: str | None
    fallback_assignment_callback_url: str | None
    task_reservation_timeout: int
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class Task:
    sid: str
    account_sid: str
    workspace_sid: str
    attributes: str
    assignment_status: str
    priority: int
    reason: str | None
    timeout: int
    task_channel_sid: str
    task_channel_unique_name: str
    workflow_sid: str | None
    workflow_friendly_name: str | None
    task_queue_sid: str | None
    task_queue_friendly_name: str | None
    task_queue_entered_date: datetime | None
    routing_target: str | None
    ignore_capacity: bool
    virtual_start_time: datetime
    filter_index: int | None
    target_index: int
    routing_priority: int
    target_expression: str | None
    target_order_by: str | None
    target_skip_if: str | None
    known_worker_sid: str | None
    step_tried: bool
    step_deadline: datetime | None
    expires_at: datetime
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class Reservation:
    sid: str
    account_sid: str
    workspace_sid: str
    task_sid: str
    worker_sid: str
    worker_name: str
    task_queue_sid: str | None
    task_channel_sid: str
    reservation_status: str
    holds_capacity: bool
    expires_at: datetime | None
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class Event:
    seq: int
    sid: str
    account_sid: str
    workspace_sid: str
    event_type: str
    resource_type: str
    resource_sid: str
    description: str
    actor_type: str | None
    actor_sid: str | None
    source: str
    task_sid: str | None
    worker_sid: str | None
    reservation_sid: str | None
    task_queue_sid: str | None
    workflow_sid: str | None
    task_channel: str | None
    event_data: dict[str, Any]
    event_date: datetime
