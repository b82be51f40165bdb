"""TaskRouter resources → Twilio's JSON, for the API and for events alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.router.domain.models import (
    Activity,
    Event,
    Reservation,
    Task,
    TaskChannel,
    TaskQueue,
    Worker,
    WorkerChannel,
    Workflow,
    Workspace,
)
from shared.http import iso

ROOT = "/taskrouter/v1/Workspaces"


def workspace_url(base: str, workspace_sid: str) -> str:
    return f"{base}{ROOT}/{workspace_sid}"


def age_seconds(since: datetime) -> int:
    return max(int((datetime.now(UTC) - since).total_seconds()), 0)


def workspace(value: Workspace, base: str, *, default_activity_name: str | None,
              timeout_activity_name: str | None) -> dict[str, Any]:
    url = workspace_url(base, value.sid)
    return {
        "account_sid": value.account_sid, "date_created": iso(value.date_created), "date_updated": iso(value.date_updated),
        "default_activity_name": default_activity_name, "default_activity_sid": value.default_activity_sid,
        "event_callback_url": value.event_callback_url, "events_filter": value.events_filter,
        "friendly_name": value.friendly_name, "multi_task_enabled": value.multi_task_enabled, "sid": value.sid,
        "timeout_activity_name": timeout_activity_name, "timeout_activity_sid": value.timeout_activity_sid,
        "prioritize_queue_order": value.prioritize_queue_order, "url": url,
        "links": {name: f"{url}/{path}" for name, path in (
            ("task_queues", "TaskQueues"), ("statistics", "Statistics"), ("real_time_statistics", "RealTimeStatistics"),
            ("cumulative_statistics", "CumulativeStatistics"), ("workers", "Workers"), ("workflows", "Workflows"),
            ("tasks", "Tasks"), ("events", "Events"), ("activities", "Activities"), ("task_channels", "TaskChannels"),
        )},
    }


def activity(value: Activity, base: str) -> dict[str, Any]:
    ws = workspace_url(base, value.workspace_sid)
    return {
        "account_sid": value.account_sid, "available": value.available, "date_created": iso(value.date_created),
        "date_updated": iso(value.date_updated), "friendly_name": value.friendly_name, "sid": value.sid,
        "workspace_sid": value.workspace_sid, "url": f"{ws}/Activities/{value.sid}", "links": {"workspace": ws},
    }


def task_channel(value: TaskChannel, base: str) -> dict[str, Any]:
    ws = workspace_url(base, value.workspace_sid)
    return {
        "account_sid": value.account_sid, "date_created": iso(value.date_created), "date_updated": iso(value.date_updated),
        "friendly_name": value.friendly_name, "sid": value.sid, "unique_name": value.unique_name,
        "workspace_sid": value.workspace_sid, "channel_optimized_routing": value.channel_optimized_routing,
        "url": f"{ws}/TaskChannels/{value.sid}", "links": {"workspace": ws},
    }


def worker(value: Worker, base: str) -> dict[str, Any]:
    ws = workspace_url(base, value.workspace_sid)
    url = f"{ws}/Workers/{value.sid}"
    return {
        "account_sid": value.account_sid, "activity_name": value.activity_name, "activity_sid": value.activity_sid,
        "attributes": value.attributes, "available": value.available, "date_created": iso(value.date_created),
        "date_status_changed": iso(value.date_status_changed), "date_updated": iso(value.date_updated),
        "friendly_name": value.friendly_name, "sid": value.sid, "workspace_sid": value.workspace_sid, "url": url,
        "links": {"channels": f"{url}/Channels", "reservations": f"{url}/Reservations",
                  "statistics": f"{url}/Statistics", "workspace": ws, "activity": f"{ws}/Activities/{value.activity_sid}"},
    }


def colleague(value: Worker, base: str) -> dict[str, Any]:
    """A worker as another agent sees it (token_policy's roster): who, and whether available."""
    full = worker(value, base)
    return {key: full[key] for key in ("account_sid", "activity_name", "activity_sid", "available", "friendly_name",
                                       "sid", "workspace_sid", "url")}


def worker_channel(value: WorkerChannel, base: str) -> dict[str, Any]:
    ws = workspace_url(base, value.workspace_sid)
    return {
        "account_sid": value.account_sid, "assigned_tasks": value.assigned_tasks, "available": value.available,
        "available_capacity_percentage": value.available_capacity_percentage,
        "configured_capacity": value.configured_capacity, "date_created": iso(value.date_created),
        "date_updated": iso(value.date_updated), "sid": value.sid, "task_channel_sid": value.task_channel_sid,
        "task_channel_unique_name": value.task_channel_unique_name, "worker_sid": value.worker_sid,
        "workspace_sid": value.workspace_sid, "url": f"{ws}/Workers/{value.worker_sid}/Channels/{value.sid}",
    }


def task_queue(value: TaskQueue, base: str) -> dict[str, Any]:
    ws = workspace_url(base, value.workspace_sid)
    url = f"{ws}/TaskQueues/{value.sid}"
    return {
        "account_sid": value.account_sid, "assignment_activity_sid": value.assignment_activity_sid,
        "assignment_activity_name": value.assignment_activity_name, "date_created": iso(value.date_created),
        "date_updated": iso(value.date_updated), "friendly_name": value.friendly_name,
        "max_reserved_workers": value.max_reserved_workers, "reservation_activity_sid": value.reservation_activity_sid,
        "reservation_activity_name": value.reservation_activity_name, "sid": value.sid,
        "target_workers": value.target_workers, "task_order": value.task_order, "url": url,
        "workspace_sid": value.workspace_sid,
        "links": {"statistics": f"{url}/Statistics", "real_time_statistics": f"{url}/RealTimeStatistics",
                  "cumulative_statistics": f"{url}/CumulativeStatistics", "list_statistics": f"{ws}/TaskQueues/Statistics",
                  "bulk_real_time_statistics": f"{ws}/TaskQueues/RealTimeStatistics", "workspace": ws},
    }


def workflow(value: Workflow, base: str) -> dict[str, Any]:
    ws = workspace_url(base, value.workspace_sid)
    url = f"{ws}/Workflows/{value.sid}"
    return {
        "account_sid": value.account_sid, "assignment_callback_url": value.assignment_callback_url,
        "configuration": value.configuration, "date_created": iso(value.date_created),
        "date_updated": iso(value.date_updated), "document_content_type": "application/json",
        "fallback_assignment_callback_url": value.fallback_assignment_callback_url,
        "friendly_name": value.friendly_name, "sid": value.sid, "task_reservation_timeout": value.task_reservation_timeout,
        "workspace_sid": value.workspace_sid, "url": url,
        "links": {"statistics": f"{url}/Statistics", "real_time_statistics": f"{url}/RealTimeStatistics",
                  "cumulative_statistics": f"{url}/CumulativeStatistics", "workspace": ws},
    }


def task(value: Task, base: str) -> dict[str, Any]:
    ws = workspace_url(base, value.workspace_sid)
    url = f"{ws}/Tasks/{value.sid}"
    return {
        "account_sid": value.account_sid, "age": age_seconds(value.date_created),
        "assignment_status": value.assignment_status, "attributes": value.attributes, "addons": "{}",
        "date_created": iso(value.date_created), "date_updated": iso(value.date_updated),
        "task_queue_entered_date": iso(value.task_queue_entered_date), "priority": value.priority,
        "reason": value.reason, "sid": value.sid, "task_queue_sid": value.task_queue_sid,
        "task_queue_friendly_name": value.task_queue_friendly_name, "task_channel_sid": value.task_channel_sid,
        "task_channel_unique_name": value.task_channel_unique_name, "timeout": value.timeout,
        "workflow_sid": value.workflow_sid, "workflow_friendly_name": value.workflow_friendly_name,
        "workspace_sid": value.workspace_sid, "url": url, "virtual_start_time": iso(value.virtual_start_time),
        "ignore_capacity": value.ignore_capacity, "routing_target": value.routing_target,
        "links": {"task_queue": f"{ws}/TaskQueues/{value.task_queue_sid}" if value.task_queue_sid else None,
                  "workflow": f"{ws}/Workflows/{value.workflow_sid}" if value.workflow_sid else None,
                  "workspace": ws, "reservations": f"{url}/Reservations"},
    }


def reservation(value: Reservation, base: str, *, scope: str = "task") -> dict[str, Any]:
    ws = workspace_url(base, value.workspace_sid)
    owner = f"{ws}/Tasks/{value.task_sid}" if scope == "task" else f"{ws}/Workers/{value.worker_sid}"
    return {
        "account_sid": value.account_sid, "date_created": iso(value.date_created), "date_updated": iso(value.date_updated),
        "reservation_status": value.reservation_status, "sid": value.sid, "task_sid": value.task_sid,
        "worker_name": value.worker_name, "worker_sid": value.worker_sid, "workspace_sid": value.workspace_sid,
        "url": f"{owner}/Reservations/{value.sid}",
        "links": {"task": f"{ws}/Tasks/{value.task_sid}", "worker": f"{ws}/Workers/{value.worker_sid}", "workspace": ws},
    }


def event(value: Event, base: str) -> dict[str, Any]:
    ws = workspace_url(base, value.workspace_sid)
    return {
        "account_sid": value.account_sid, "actor_sid": value.actor_sid, "actor_type": value.actor_type,
        "actor_url": None, "description": value.description, "event_data": value.event_data,
        "event_date": iso(value.event_date), "event_date_ms": int(value.event_date.timestamp() * 1000),
        "event_type": value.event_type, "resource_sid": value.resource_sid, "resource_type": value.resource_type,
        "resource_url": None, "sid": value.sid, "source": value.source, "source_ip_address": None,
        "url": f"{ws}/Events/{value.sid}", "workspace_sid": value.workspace_sid,
    }
