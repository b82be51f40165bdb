"""Twilio's event callback parameters (PascalCase form fields) for the resources an event is about."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

from services.router.domain.models import Task, Worker, Workspace

Fields = list[tuple[str, str]]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return str(int(value.timestamp()))
    return str(value)


def _pairs(*items: tuple[str, object]) -> Fields:
    return [(name, text) for name, value in items if (text := _text(value)) is not None]


def task_fields(task: Task) -> Fields:
    age = int((datetime.now(UTC) - task.date_created).total_seconds())
    return _pairs(
        ("TaskSid", task.sid), ("TaskAttributes", task.attributes), ("TaskAge", max(age, 0)),
        ("TaskPriority", task.priority), ("TaskAssignmentStatus", task.assignment_status),
        ("TaskChannelSid", task.task_channel_sid), ("TaskChannelUniqueName", task.task_channel_unique_name),
        ("TaskQueueSid", task.task_queue_sid), ("TaskQueueName", task.task_queue_friendly_name),
        ("TaskQueueEnteredDate", task.task_queue_entered_date), ("TaskQueueTargetExpression", task.target_expression),
        ("WorkflowSid", task.workflow_sid), ("WorkflowName", task.workflow_friendly_name),
        ("TaskCanceledReason" if task.assignment_status == "canceled" else "TaskCompletedReason",
         task.reason if task.assignment_status in ("canceled", "completed") else None),
    )


def worker_fields(worker: Worker) -> Fields:
    return _pairs(
        ("WorkerSid", worker.sid), ("WorkerName", worker.friendly_name), ("WorkerAttributes", worker.attributes),
        ("WorkerActivitySid", worker.activity_sid), ("WorkerActivityName", worker.activity_name),
        ("WorkerAvailable", worker.available),
    )


def assignment_callback_fields(workspace: Workspace, task: Task, worker: Worker, *, reservation_sid: str,
                               task_queue_sid: str) -> Fields:
    """What TaskRouter posts to a workflow's AssignmentCallbackUrl when it reserves a worker."""
    age = int((datetime.now(UTC) - task.date_created).total_seconds())
    return _pairs(
        ("AccountSid", workspace.account_sid), ("WorkspaceSid", workspace.sid), ("WorkflowSid", task.workflow_sid),
        ("TaskQueueSid", task_queue_sid), ("WorkerSid", worker.sid), ("TaskSid", task.sid),
        ("ReservationSid", reservation_sid), ("TaskAttributes", task.attributes), ("WorkerAttributes", worker.attributes),
        ("TaskAge", max(age, 0)), ("TaskPriority", task.priority),
    )


def common_fields(workspace: Workspace, *, sid: str, event_type: str, description: str, resource_type: str,
                  resource_sid: str, at: datetime) -> Fields:
    millis = int(at.timestamp() * 1000)
    return _pairs(
        ("Sid", sid), ("EventType", event_type), ("AccountSid", workspace.account_sid), ("WorkspaceSid", workspace.sid),
        ("WorkspaceName", workspace.friendly_name), ("EventDescription", description), ("ResourceType", resource_type),
        ("ResourceSid", resource_sid), ("Timestamp", millis // 1000), ("TimestampMs", millis),
        ("EventDate", at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")), ("EventDateMs", millis),
    )


@functools.lru_cache(maxsize=512)
def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
