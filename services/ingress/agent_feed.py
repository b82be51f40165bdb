"""The agent's own TaskRouter events on the realtime WebSocket: offers, their endings, the worker's activity.

The router announces every TaskRouter event on `parley.events` (routing key = event type). This replica
forwards reservation and worker events to the sockets whose access token names that worker
(`grants.task_router.worker_sid`), and nothing else: another agent's offers are none of a socket's business.
Events are hints: a client that (re)connects resyncs its offers and tasks through the REST API, so an event
lost while it was away costs nothing.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from typing import Any

from pydantic import ValidationError

from services.ingress.realtime import Client
from shared.contracts.router import TaskRouterEvent

log = logging.getLogger(__name__)

# What this replica's event queue binds to on parley.events, besides the conversation events.
AGENT_EVENT_BINDINGS = ("reservation.#", "worker.#")

# The task's fields an offer shows (from the event's data, so the client needs no further request).
TASK_FIELDS = ("task_sid", "task_attributes", "task_age", "task_priority", "task_assignment_status",
               "task_channel_sid", "task_channel_unique_name", "task_queue_sid", "task_queue_name")


class AgentFeed:
    """Which connected clients are which worker, and forwarding that worker's events to them."""

    def __init__(self) -> None:
        self._by_worker: dict[tuple[str, str], set[Client]] = defaultdict(set)

    def connect(self, client: Client, worker_sid: str | None) -> None:
        if worker_sid:
            self._by_worker[(client.account_sid, worker_sid)].add(client)

    def disconnect(self, client: Client, worker_sid: str | None) -> None:
        key = (client.account_sid, worker_sid or "")
        clients = self._by_worker.get(key)
        if clients is not None:
            clients.discard(client)
            if not clients:
                del self._by_worker[key]

    def connected(self, account_sid: str, worker_sid: str) -> int:
        return len(self._by_worker.get((account_sid, worker_sid), ()))

    async def on_event(self, envelope: dict[str, Any]) -> None:
        kind = envelope.get("type")
        account_sid = envelope.get("account_sid")
        if not isinstance(kind, str) or not isinstance(account_sid, str) or not kind.startswith(("reservation.",
                                                                                                    "worker.")):
            return
        try:
            event = TaskRouterEvent.model_validate(envelope.get("payload"))
        except ValidationError as error:
            log.warning("unreadable TaskRouter event skipped: %s", error)
            return
        worker_sid = worker_of(event)
        if worker_sid is None:
            return
        clients = self._by_worker.get((account_sid, worker_sid))
        if not clients:
            return
        message = agent_message(event, worker_sid=worker_sid, occurred_at=envelope.get("occurred_at"))
        for client in list(clients):
            client.deliver(message)


def worker_of(event: TaskRouterEvent) -> str | None:
    if event.resource_type == "worker":
        return event.resource_sid
    return event.event_data.get("worker_sid") or (event.resource or {}).get("worker_sid")


def agent_message(event: TaskRouterEvent, *, worker_sid: str, occurred_at: Any = None) -> dict[str, Any]:
    """What an agent's socket receives: the event type, the resource as REST renders it, and for a
    reservation the task it offers (attributes parsed: channel type, customer name and address)."""
    message: dict[str, Any] = {"type": event.event_type, "event_sid": event.event_sid, "worker_sid": worker_sid,
                               "resource_type": event.resource_type, "resource": event.resource}
    if isinstance(occurred_at, str):
        message["occurred_at"] = occurred_at
    data = event.event_data
    if event.resource_type == "reservation":
        task: dict[str, Any] = {name.removeprefix("task_"): data[name] for name in TASK_FIELDS if name in data}
        try:
            task["attributes"] = json.loads(data.get("task_attributes") or "{}")
        except ValueError:
            task["attributes"] = {}
        message["task"] = task
        if data.get("reservation_timeout", "").isdigit():
            message["timeout"] = int(data["reservation_timeout"])
    elif event.resource_type == "worker":
        message["activity_sid"] = data.get("worker_activity_sid")
        message["activity_name"] = data.get("worker_activity_name")
    return message
