"""`/flex-api/v1/Configuration`: the account's Flex settings.

Parley fills the TaskRouter fields from the account's first workspace (its first workflow and queue, its
Offline activity) until a client sets them; Interactions created without `Routing.properties.workspace_sid`
(or `workflow_sid`) route through the configured workspace and target workflow. Every other field of
Twilio's resource is stored as the client sends it and given back (the desk and supervisor apps read them).
The update takes a JSON object, as the twilio library sends it; top-level keys replace what was stored.
"""

import re
from typing import Any

from fastapi import APIRouter, Request

from services.router import render_flex as render
from services.router.api.deps import base_of, caller
from services.router.store import activities, flex_flows, task_queues, workflows, workspaces
from services.router.store.base import Connection, Keyset
from shared.errors import invalid_parameter
from shared.forms import read_json_body
from shared.runtime import ServiceContext

READ_ONLY = {"account_sid", "date_created", "date_updated", "url", "status", "service_version"}
SETTABLE = {
    "attributes", "agent_conv_end_methods", "call_recording_enabled", "call_recording_webhook_url", "channel_configs",
    "chat_service_instance_sid", "citrix_voice_vdi", "crm_attributes", "crm_callback_url", "crm_enabled",
    "crm_fallback_url", "crm_type", "debugger_integration", "flex_insights_drilldown", "flex_insights_hr",
    "flex_instance_sid", "flex_service_instance_sid", "flex_ui_status_report", "flex_url", "integrations", "markdown",
    "messaging_service_instance_sid", "notifications", "offline_config", "outbound_call_flows",
    "plugin_service_attributes", "plugin_service_enabled", "public_attributes", "queue_stats_configuration",
    "runtime_domain", "serverless_service_sids", "taskrouter_offline_activity_sid", "taskrouter_skills",
    "taskrouter_target_taskqueue_sid", "taskrouter_target_workflow_sid", "taskrouter_taskqueues",
    "taskrouter_worker_attributes", "taskrouter_worker_channels", "taskrouter_workspace_sid", "ui_attributes",
    "ui_dependencies", "ui_language", "ui_version",
}
SID_FIELDS = {"taskrouter_workspace_sid": "WS", "taskrouter_target_workflow_sid": "WW",
              "taskrouter_target_taskqueue_sid": "WQ", "taskrouter_offline_activity_sid": "WA",
              "chat_service_instance_sid": "IS", "flex_service_instance_sid": "IS"}
FIRST = Keyset(after=None, before=None, limit=1)


async def taskrouter_defaults(conn: Connection, account_sid: str, stored: dict[str, Any]) -> dict[str, Any]:
    """The TaskRouter fields from the configured (else the first) workspace."""
    defaults: dict[str, Any] = {"attributes": {}, "ui_attributes": {}, "ui_language": "en", "ui_dependencies": {},
                                "taskrouter_skills": [], "taskrouter_worker_channels": {},
                                "taskrouter_worker_attributes": {}, "channel_configs": []}
    workspace_sid = stored.get("taskrouter_workspace_sid")
    if workspace_sid is None:
        first = await workspaces.list_workspaces(conn, account_sid=account_sid, friendly_name=None, keyset=FIRST)
        workspace_sid = first[0].sid if first else None
    defaults["taskrouter_workspace_sid"] = workspace_sid
    if workspace_sid is None:
        return defaults
    flows = await workflows.list_workflows(conn, workspace_sid=workspace_sid, friendly_name=None, keyset=FIRST)
    queues = await task_queues.all_task_queues(conn, workspace_sid=workspace_sid)
    offline = await activities.list_activities(conn, workspace_sid=workspace_sid, friendly_name="Offline",
                                               available=None, keyset=FIRST)
    defaults.update({
        "taskrouter_target_workflow_sid": flows[0].sid if flows else None,
        "taskrouter_target_taskqueue_sid": queues[0].sid if queues else None,
        "taskrouter_taskqueues": [{"sid": queue.sid, "targettable": True} for queue in queues],
        "taskrouter_offline_activity_sid": offline[0].sid if offline else None,
    })
    return defaults


async def configuration_of(conn: Connection, account_sid: str) -> tuple[Any, dict[str, Any]]:
    row = await flex_flows.get_configuration(conn, account_sid=account_sid)
    return row, await taskrouter_defaults(conn, account_sid, row["values"])


async def routing_defaults(conn: Connection, account_sid: str) -> dict[str, Any]:
    """What an Interaction's Routing leaves out: the configured workspace and its target workflow."""
    row, defaults = await configuration_of(conn, account_sid)
    merged = {**defaults, **row["values"]}
    return {"workspace_sid": merged.get("taskrouter_workspace_sid"),
            "workflow_sid": merged.get("taskrouter_target_workflow_sid")}


async def check_changes(conn: Connection, account_sid: str, changes: Any) -> dict[str, Any]:
    if not isinstance(changes, dict):
        raise invalid_parameter("The Configuration update must be a JSON object")
    for key, value in changes.items():
        if key == "account_sid" and value == account_sid:
            continue  # Twilio's documented body names the account it updates
        if key in READ_ONLY:
            raise invalid_parameter(f"Configuration field '{key}' cannot be set")
        if key not in SETTABLE:
            raise invalid_parameter(f"Configuration field '{key}' is not a Flex Configuration field")
        prefix = SID_FIELDS.get(key)
        if prefix and value is not None and not (isinstance(value, str)
                                                 and re.fullmatch(rf"{prefix}[0-9a-fA-F]{{32}}", value)):
            raise invalid_parameter(f"Configuration field '{key}' must be a {prefix}… SID")
    workspace_sid = changes.get("taskrouter_workspace_sid")
    if workspace_sid and await workspaces.get_workspace(conn, account_sid=account_sid, sid=workspace_sid) is None:
        raise invalid_parameter(f"taskrouter_workspace_sid {workspace_sid} is not a Workspace of this account")
    return {key: value for key, value in changes.items() if key != "account_sid"}


def flex_configuration_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=render.CONFIGURATION)
    Caller = caller(context)
    pool = context.pool

    async def answer(request: Request, account_sid: str) -> dict[str, Any]:
        async with pool.acquire() as conn:
            row, defaults = await configuration_of(conn, account_sid)
        return render.configuration(row, base_of(context, request), fields=SETTABLE, defaults=defaults)

    @router.get("")
    async def fetch(request: Request, account: Caller) -> dict[str, Any]:
        return await answer(request, account.sid)

    @router.post("")
    async def update(request: Request, account: Caller) -> dict[str, Any]:
        changes = await read_json_body(request, name="Configuration")
        async with pool.acquire() as conn, conn.transaction():
            await flex_flows.update_configuration(conn, account_sid=account.sid,
                                                  changes=await check_changes(conn, account.sid, changes))
        return await answer(request, account.sid)

    return router
