"""Workspaces: creation with Twilio's default activities and task channels, updates, deletion."""

from __future__ import annotations

import json
from typing import Any

from services.router import render
from services.router.announce import Occurrence, record
from services.router.domain.models import Workspace
from services.router.store import activities, task_channels, task_queues, workflows, workspaces
from services.router.store.base import Connection

DEFAULT_ACTIVITIES = (("Offline", False), ("Available", True), ("Unavailable", False))
DEFAULT_CHANNELS = (("Default", "default"), ("Voice", "voice"), ("Chat", "chat"), ("SMS", "sms"), ("Video", "video"))


async def create_workspace(conn: Connection, *, account_sid: str, friendly_name: str, event_callback_url: str | None,
                           events_filter: str | None, multi_task_enabled: bool, prioritize_queue_order: str,
                           template: str | None, base: str) -> Workspace:
    workspace = await workspaces.insert_workspace(
        conn, account_sid=account_sid, friendly_name=friendly_name, event_callback_url=event_callback_url,
        events_filter=events_filter, multi_task_enabled=multi_task_enabled,
        prioritize_queue_order=prioritize_queue_order,
    )
    created = {}
    for name, available in DEFAULT_ACTIVITIES:
        created[name] = await activities.insert_activity(conn, account_sid=account_sid, workspace_sid=workspace.sid,
                                                         friendly_name=name, available=available)
    for name, unique in DEFAULT_CHANNELS:
        await task_channels.insert_task_channel(conn, account_sid=account_sid, workspace_sid=workspace.sid,
                                                friendly_name=name, unique_name=unique, channel_optimized_routing=None)
    offline = created["Offline"].sid
    workspace = await workspaces.update_workspace(
        conn, sid=workspace.sid, values={"default_activity_sid": offline, "timeout_activity_sid": offline})
    if template == "FIFO":
        queue_sid = await task_queues.insert_task_queue(conn, account_sid=account_sid, workspace_sid=workspace.sid,
                                                        values={"friendly_name": "Sample Queue"})
        await workflows.insert_workflow(conn, account_sid=account_sid, workspace_sid=workspace.sid, values={
            "friendly_name": "Default Fifo Workflow",
            "configuration": json.dumps({"task_routing": {"filters": [], "default_filter": {"queue": queue_sid}}}),
        })
    await record(conn, workspace, Occurrence(
        event_type="workspace.created", resource_type="workspace", resource_sid=workspace.sid,
        description=f"Workspace {workspace.friendly_name} created", resource=await rendered(conn, workspace, base)))
    return workspace


async def activity_names(conn: Connection, workspace: Workspace) -> tuple[str | None, str | None]:
    names = {}
    for sid in (workspace.default_activity_sid, workspace.timeout_activity_sid):
        if sid:
            found = await activities.get_activity(conn, workspace_sid=workspace.sid, sid=sid)
            names[sid] = found.friendly_name if found else None
    return names.get(workspace.default_activity_sid or ""), names.get(workspace.timeout_activity_sid or "")


async def rendered(conn: Connection, workspace: Workspace, base: str) -> dict[str, Any]:
    default_name, timeout_name = await activity_names(conn, workspace)
    return render.workspace(workspace, base, default_activity_name=default_name, timeout_activity_name=timeout_name)


async def update_workspace(conn: Connection, workspace: Workspace, values: dict[str, Any], *, base: str) -> Workspace:
    updated = await workspaces.update_workspace(conn, sid=workspace.sid, values=values) if values else workspace
    await record(conn, updated, Occurrence(
        event_type="workspace.updated", resource_type="workspace", resource_sid=updated.sid,
        description=f"Workspace {updated.friendly_name} updated", resource=await rendered(conn, updated, base)))
    return updated
