"""Flex Interactions resources → Twilio's JSON (flex-api v1)."""

from __future__ import annotations

import json
from typing import Any

from services.router.domain.interactions import ChannelParticipant, Interaction, InteractionChannel, Invite, Transfer
from services.router.domain.models import Task
from services.router.render import age_seconds
from shared.http import iso

ROOT = "/flex-api/v1/Interactions"


def interaction_url(base: str, sid: str) -> str:
    return f"{base}{ROOT}/{sid}"


def channel_url(base: str, value: InteractionChannel | ChannelParticipant | Invite | Transfer) -> str:
    if isinstance(value, InteractionChannel):
        return f"{interaction_url(base, value.interaction_sid)}/Channels/{value.sid}"
    return f"{interaction_url(base, value.interaction_sid)}/Channels/{value.channel_sid}"


def task_properties(task: Task) -> dict[str, Any]:
    """The task as the Interactions create answers it: snake_case, epoch-second dates (TWILIO-NOTES §5.1)."""
    def epoch(value: Any) -> int | None:
        return int(value.timestamp()) if value is not None else None

    return {
        "sid": task.sid, "account_sid": task.account_sid, "workspace_sid": task.workspace_sid,
        "workflow_sid": task.workflow_sid, "workflow_name": task.workflow_friendly_name,
        "queue_sid": task.task_queue_sid, "queue_name": task.task_queue_friendly_name,
        "task_channel_sid": task.task_channel_sid, "task_channel_unique_name": task.task_channel_unique_name,
        "assignment_status": task.assignment_status, "priority": task.priority, "timeout": task.timeout,
        "age": age_seconds(task.date_created),
        "age_in_queue": age_seconds(task.task_queue_entered_date) if task.task_queue_entered_date else 0,
        "task_queue_entered_date": epoch(task.task_queue_entered_date), "date_created": epoch(task.date_created),
        "date_updated": epoch(task.date_updated), "reason": task.reason, "routing_target": task.routing_target,
        "assignmentCounter": 0, "addons": "{}", "attributes": task.attributes,
    }


def interaction(value: Interaction, channel: InteractionChannel | None, task: Task | None, base: str) -> dict[str, Any]:
    url = interaction_url(base, value.sid)
    return {
        "sid": value.sid,
        "channel": {"type": channel.type, "sid": channel.sid} if channel else None,
        "routing": {"reservation": None, "properties": task_properties(task) if task else None},
        "interaction_context_sid": value.interaction_context_sid, "webhook_ttid": value.webhook_ttid,
        "url": url, "links": {"channels": f"{url}/Channels"},
    }


def channel(value: InteractionChannel, base: str) -> dict[str, Any]:
    url = channel_url(base, value)
    return {
        "sid": value.sid, "interaction_sid": value.interaction_sid, "type": value.type, "status": value.status,
        "error_code": value.error_code, "error_message": value.error_message, "url": url,
        "links": {"participants": f"{url}/Participants", "invites": f"{url}/Invites", "transfers": f"{url}/Transfers"},
    }


def participant(value: ChannelParticipant, base: str) -> dict[str, Any]:
    return {
        "sid": value.sid, "type": value.type, "interaction_sid": value.interaction_sid, "channel_sid": value.channel_sid,
        "url": f"{channel_url(base, value)}/Participants/{value.sid}", "routing_properties": value.routing_properties,
    }


def invite(value: Invite, base: str) -> dict[str, Any]:
    try:
        routing: Any = json.loads(value.routing)
    except ValueError:
        routing = None
    return {"sid": value.sid, "interaction_sid": value.interaction_sid, "channel_sid": value.channel_sid,
            "routing": routing, "url": f"{channel_url(base, value)}/Invites/{value.sid}"}


def transfer(value: Transfer, base: str) -> dict[str, Any]:
    return {
        "sid": value.sid, "instance_sid": None, "account_sid": value.account_sid,
        "interaction_sid": value.interaction_sid, "channel_sid": value.channel_sid, "execution_sid": None,
        "type": value.type, "status": value.status, "from": value.from_participant_sid, "to": value.to_target,
        "note_sid": None, "summary_sid": None, "date_created": iso(value.date_created),
        "date_updated": iso(value.date_updated), "url": f"{channel_url(base, value)}/Transfers/{value.sid}",
    }
