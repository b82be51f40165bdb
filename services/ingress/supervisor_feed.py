"""Realtime additions for supervisors and web-chat guests, on top of the hub's conversation events.

- Supervisors (an access token whose task_router grant has role `supervisor`) receive
  `supervisor.statistics` snapshots of their workspace (supervisor_snapshot.py): one when they connect,
  then again whenever the router's events on parley.events say something changed. Recomputation is
  rate-limited per workspace (`PARLEY_SUPERVISOR_STATS_INTERVAL`): a burst of events costs one snapshot,
  shared by every supervisor of that workspace on this replica.
- Every participant's socket receives `conversation.updated` (with the conversation resource, its `state`
  among it) when the conversation changes or closes, so a web-chat widget can say the chat has ended.
  These are hints, not logged for resume: a client that reconnects fetches the conversation again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import ValidationError

from services.ingress.realtime import Client, RealtimeHub
from services.ingress.supervisor_snapshot import SnapshotUnavailable, fetch_snapshot
from shared.contracts.conversations import CONVERSATION_STATE_UPDATED, CONVERSATION_UPDATED, ResourceEvent
from shared.settings import Settings

log = logging.getLogger(__name__)

SUPERVISOR_ROLE = "supervisor"
# The router announces every TaskRouter event on parley.events with its type as the routing key.
ROUTER_EVENT_BINDINGS = ("task.#", "reservation.#", "worker.#", "task-queue.#")
CONVERSATION_BINDINGS = (CONVERSATION_UPDATED, CONVERSATION_STATE_UPDATED)
BINDINGS = ROUTER_EVENT_BINDINGS + CONVERSATION_BINDINGS
SNAPSHOT_TIMEOUT_SECONDS = 10.0


@dataclass
class _Workspace:
    """The supervisors of one workspace on this replica, and its recomputation's rate limit."""

    watchers: dict[str, tuple[Client, str]] = field(default_factory=dict)  # client id → (client, token)
    last_run: float = 0.0
    dirty: bool = False
    running: asyncio.Task[None] | None = None


class SupervisorFeed:
    def __init__(self, settings: Settings, hub: RealtimeHub) -> None:
        self._hub = hub
        self._interval = settings.supervisor_statistics_interval_seconds
        self._base_url = settings.external_base_url()
        self._workspaces: dict[tuple[str, str], _Workspace] = {}
        self._http: httpx.AsyncClient | None = None

    # --- Connections ---

    def connected(self, client: Client, *, token: str, role: str | None, workspace_sid: str | None) -> None:
        """Called for every new socket; supervisors get a first snapshot at once, then live updates."""
        if role != SUPERVISOR_ROLE or not workspace_sid:
            return
        key = (client.account_sid, workspace_sid)
        workspace = self._workspaces.setdefault(key, _Workspace())
        workspace.watchers[client.id] = (client, token)
        # Through the same rate-limited round as live updates, so an older snapshot never lands after a newer one.
        self._schedule(client.account_sid, workspace_sid)

    def disconnected(self, client: Client) -> None:
        for key, workspace in list(self._workspaces.items()):
            if workspace.watchers.pop(client.id, None) is not None and not workspace.watchers:
                if workspace.running is not None:
                    workspace.running.cancel()
                del self._workspaces[key]

    # --- Events from parley.events ---

    async def on_event(self, envelope: dict[str, Any]) -> None:
        kind = envelope.get("type")
        account_sid = envelope.get("account_sid")
        if not isinstance(kind, str) or not isinstance(account_sid, str):
            return
        if kind in CONVERSATION_BINDINGS:
            self._relay_conversation(account_sid, envelope)
            return
        payload = envelope.get("payload")
        workspace_sid = payload.get("workspace_sid") if isinstance(payload, dict) else None
        if isinstance(workspace_sid, str) and (account_sid, workspace_sid) in self._workspaces:
            self._schedule(account_sid, workspace_sid)

    def _relay_conversation(self, account_sid: str, envelope: dict[str, Any]) -> None:
        try:
            event = ResourceEvent.model_validate(envelope.get("payload"))
        except ValidationError as error:
            log.warning("unreadable conversation event skipped: %s", error)
            return
        conversation_sid = event.resource.get("sid")
        if isinstance(conversation_sid, str):
            self._hub.send_to_conversation(account_sid, conversation_sid, {
                "type": "conversation.updated", "conversation_sid": conversation_sid, "resource": event.resource})

    # --- Rate-limited recomputation ---

    def _schedule(self, account_sid: str, workspace_sid: str) -> None:
        workspace = self._workspaces[(account_sid, workspace_sid)]
        if workspace.running is not None and not workspace.running.done():
            workspace.dirty = True  # the running round looks again once it is done
            return
        workspace.running = asyncio.get_running_loop().create_task(self._recompute(account_sid, workspace_sid))

    async def _recompute(self, account_sid: str, workspace_sid: str) -> None:
        key = (account_sid, workspace_sid)
        while (workspace := self._workspaces.get(key)) is not None and workspace.watchers:
            await asyncio.sleep(max(0.0, workspace.last_run + self._interval - time.monotonic()))
            workspace.dirty = False
            workspace.last_run = time.monotonic()
            # Any supervisor's token will do: each of this workspace's may read all of it.
            _, token = next(reversed(workspace.watchers.values()))
            message = await self._snapshot(token, workspace_sid)
            for client, _ in list(workspace.watchers.values()):
                client.deliver(message)
            if not workspace.dirty:
                return

    async def _snapshot(self, token: str, workspace_sid: str) -> dict[str, Any]:
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self._base_url, timeout=SNAPSHOT_TIMEOUT_SECONDS)
        try:
            return await fetch_snapshot(self._http, token=token, workspace_sid=workspace_sid)
        except SnapshotUnavailable as error:
            log.warning("supervisor statistics unavailable: %s", error, extra={"workspace_sid": workspace_sid})
            return {"type": "supervisor.statistics", "workspace_sid": workspace_sid, "error": str(error)}

    async def close(self) -> None:
        for workspace in self._workspaces.values():
            if workspace.running is not None:
                workspace.running.cancel()
        self._workspaces.clear()
        if self._http is not None:
            with contextlib.suppress(Exception):
                await self._http.aclose()
