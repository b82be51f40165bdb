"""Recording a TaskRouter event: the Events row, the broker event and, when asked, the EventCallbackUrl delivery.

All three go in the caller's transaction (outbox), so a change and its event commit or vanish together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.router.domain.event_fields import Fields, common_fields, snake
from services.router.domain.models import Workspace
from services.router.store import events as event_store
from services.router.store.base import Connection
from shared.broker.topology import COMMANDS, EVENTS
from shared.contracts.envelope import Envelope, make_envelope
from shared.contracts.router import ASSIGNMENT_CALLBACK, AssignmentCallback, TaskRouterEvent
from shared.contracts.webhooks import DELIVER_WEBHOOK, WebhookDelivery
from shared.outbox import add_many_to_outbox, add_to_outbox
from shared.sids import new_sid

# TaskRouter gives event callbacks 15 s to answer (Conversations webhooks get 5 s).
EVENT_CALLBACK_TIMEOUT_SECONDS = 15.0

RESOURCE_NAMES = {"task": "Task", "reservation": "Reservation", "worker": "Worker", "activity": "Activity",
                  "workflow": "Workflow", "workspace": "Workspace", "task_queue": "TaskQueue",
                  "task_channel": "TaskChannel"}


@dataclass
class Occurrence:
    event_type: str
    resource_type: str
    resource_sid: str
    description: str
    resource: dict[str, Any] | None = None
    fields: Fields = field(default_factory=list)
    task_sid: str | None = None
    worker_sid: str | None = None
    reservation_sid: str | None = None
    task_queue_sid: str | None = None
    workflow_sid: str | None = None
    task_channel: str | None = None
    actor_type: str | None = None
    actor_sid: str | None = None


def assignment_callback_message(workspace: Workspace, *, url: str, fallback_url: str | None, fields: Fields,
                                task_sid: str, reservation_sid: str) -> Envelope[Any]:
    """The workflow's AssignmentCallbackUrl hears of each reservation; its answer may accept or reject it
    (engine/assignment_callbacks.py asks it once the reservation is committed)."""
    callback = AssignmentCallback(workspace_sid=workspace.sid, reservation_sid=reservation_sid, url=url,
                                  fallback_url=fallback_url, params=fields)
    return make_envelope(ASSIGNMENT_CALLBACK, callback, account_sid=workspace.account_sid, correlation_id=task_sid)


async def call_assignment_callback(conn: Connection, workspace: Workspace, *, url: str, fallback_url: str | None,
                                   fields: Fields, task_sid: str, reservation_sid: str) -> None:
    await add_to_outbox(conn, exchange=COMMANDS, envelope=assignment_callback_message(
        workspace, url=url, fallback_url=fallback_url, fields=fields, task_sid=task_sid,
        reservation_sid=reservation_sid))


def _prepared(workspace: Workspace, occurrence: Occurrence) -> tuple[dict[str, Any], list[tuple[str, Envelope[Any]]]]:
    """The Events row and the messages (broker event; EventCallbackUrl delivery when asked) of one occurrence."""
    sid = new_sid("EV")
    now = datetime.now(UTC)
    data = {snake(name): value for name, value in occurrence.fields}
    row = {
        "sid": sid, "account_sid": workspace.account_sid, "workspace_sid": workspace.sid,
        "event_type": occurrence.event_type, "resource_type": occurrence.resource_type,
        "resource_sid": occurrence.resource_sid, "description": occurrence.description,
        "actor_type": occurrence.actor_type, "actor_sid": occurrence.actor_sid, "task_sid": occurrence.task_sid,
        "worker_sid": occurrence.worker_sid, "reservation_sid": occurrence.reservation_sid,
        "task_queue_sid": occurrence.task_queue_sid, "workflow_sid": occurrence.workflow_sid,
        "task_channel": occurrence.task_channel, "event_data": data,
    }
    # Built here from our own values: no need to validate them again (a hot path of the dispatcher).
    payload = TaskRouterEvent.model_construct(
        event_sid=sid, event_type=occurrence.event_type, workspace_sid=workspace.sid,
        resource_type=occurrence.resource_type, resource_sid=occurrence.resource_sid,
        description=occurrence.description, resource=occurrence.resource, event_data=data,
    )
    messages: list[tuple[str, Envelope[Any]]] = [(EVENTS, make_envelope(
        occurrence.event_type, payload, account_sid=workspace.account_sid, correlation_id=occurrence.task_sid))]
    if workspace.wants_event(occurrence.event_type):
        assert workspace.event_callback_url is not None
        fields = common_fields(workspace, sid=sid, event_type=occurrence.event_type, description=occurrence.description,
                               resource_type=RESOURCE_NAMES.get(occurrence.resource_type, occurrence.resource_type),
                               resource_sid=occurrence.resource_sid, at=now) + occurrence.fields
        delivery = WebhookDelivery(
            event_type=occurrence.event_type, target="workspace", url=workspace.event_callback_url, params=fields,
            resource_sid=occurrence.resource_sid, ordering_key=occurrence.task_sid or occurrence.resource_sid,
            timeout_seconds=EVENT_CALLBACK_TIMEOUT_SECONDS,
        )
        messages.append((COMMANDS, make_envelope(DELIVER_WEBHOOK, delivery, account_sid=workspace.account_sid,
                                                 correlation_id=occurrence.task_sid)))
    return row, messages


async def record(conn: Connection, workspace: Workspace, occurrence: Occurrence) -> None:
    row, messages = _prepared(workspace, occurrence)
    await event_store.insert_event(conn, row)
    for exchange, envelope in messages:
        await add_to_outbox(conn, exchange=exchange, envelope=envelope)


async def record_many(conn: Connection, workspace: Workspace, occurrences: list[Occurrence],
                      extra: list[tuple[str, Envelope[Any]]] | None = None) -> None:
    """Many occurrences (and any `extra` messages) in two statements: the dispatcher's round."""
    rows, messages = [], []
    for occurrence in occurrences:
        row, produced = _prepared(workspace, occurrence)
        rows.append(row)
        messages += produced
    if rows:
        await event_store.insert_events(conn, rows)
    await add_many_to_outbox(conn, [*messages, *(extra or [])])
