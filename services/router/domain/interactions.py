"""Flex Interactions as plain values: the Channel and Routing JSON a client sends, and the task attributes Flex sets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.errors import invalid_parameter

CHANNEL_TYPES = ("voice", "sms", "email", "web", "whatsapp", "chat", "messenger", "gbm")
INITIATORS = ("customer", "agent", "api")
COMMUNICATION_CHANNELS = {"sms": "Sms", "whatsapp": "Whatsapp", "email": "Email", "web": "Web", "chat": "Chat",
                          "messenger": "Messenger", "gbm": "Gbm", "voice": "Voice"}


@dataclass(frozen=True)
class Interaction:
    sid: str
    account_sid: str
    interaction_context_sid: str | None
    webhook_ttid: str | None
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class InteractionChannel:
    sid: str
    account_sid: str
    interaction_sid: str
    type: str
    initiated_by: str
    status: str
    media_channel_sid: str | None
    workspace_sid: str | None
    error_code: int | None
    error_message: str | None
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class ChannelParticipant:
    sid: str
    account_sid: str
    interaction_sid: str
    channel_sid: str
    type: str
    status: str
    identity: str | None
    media_properties: str
    task_sid: str | None
    worker_sid: str | None
    reservation_sid: str | None
    date_created: datetime
    date_updated: datetime

    @property
    def routing_properties(self) -> dict[str, Any] | None:
        if self.task_sid is None:
            return None
        return {"task_sid": self.task_sid, "worker_sid": self.worker_sid, "reservation_sid": self.reservation_sid}


@dataclass(frozen=True)
class Invite:
    sid: str
    account_sid: str
    interaction_sid: str
    channel_sid: str
    routing: str
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class Transfer:
    sid: str
    account_sid: str
    interaction_sid: str
    channel_sid: str
    type: str
    status: str
    from_participant_sid: str
    to_target: str
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class ChannelRequest:
    """The `Channel` JSON of an Interactions create."""

    type: str
    initiated_by: str
    media_channel_sid: str | None
    participants: list[dict[str, Any]]
    properties: dict[str, Any]
    sid: str | None = None


@dataclass(frozen=True)
class RoutingRequest:
    """`Routing.properties` of an Interactions create or an Invite."""

    workspace_sid: str
    workflow_sid: str | None = None
    queue_sid: str | None = None
    worker_sid: str | None = None
    task_channel: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    priority: int | None = None
    timeout: int | None = None


def json_parameter(value: str | None, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise invalid_parameter(f"Parameter '{name}' is not valid JSON") from error
    if not isinstance(parsed, dict):
        raise invalid_parameter(f"Parameter '{name}' must be a JSON object")
    return parsed


def parse_channel(data: dict[str, Any]) -> ChannelRequest:
    kind = data.get("type")
    if kind not in CHANNEL_TYPES:
        raise invalid_parameter(f"Channel.type must be one of {', '.join(CHANNEL_TYPES)}")
    initiated_by = data.get("initiated_by")
    if initiated_by not in INITIATORS:
        raise invalid_parameter(f"Channel.initiated_by must be one of {', '.join(INITIATORS)}")
    properties = data.get("properties") or {}
    participants = data.get("participants") or []
    if not isinstance(properties, dict) or not isinstance(participants, list) \
            or not all(isinstance(entry, dict) for entry in participants):
        raise invalid_parameter("Channel.properties must be an object and Channel.participants a list of objects")
    media = properties.get("media_channel_sid")
    if media is not None and not (isinstance(media, str) and media.startswith("CH") and len(media) == 34):
        raise invalid_parameter("Channel.properties.media_channel_sid must be a Conversation SID (CH…)")
    if initiated_by == "customer" and media is None:
        raise invalid_parameter("Channel.properties.media_channel_sid is required when initiated_by is customer")
    if media is None and not participants:
        raise invalid_parameter("Channel.participants is required without Channel.properties.media_channel_sid")
    for entry in participants:
        if not entry.get("identity") and not (entry.get("address") and entry.get("proxy_address")):
            raise invalid_parameter("Each Channel.participants entry needs identity, or address and proxy_address")
    return ChannelRequest(type=kind, initiated_by=initiated_by, media_channel_sid=media, participants=participants,
                          properties=properties, sid=data.get("sid"))


def parse_routing(data: dict[str, Any], *, agent_initiated: bool = False) -> RoutingRequest:
    properties = data.get("properties")
    if not isinstance(properties, dict):
        raise invalid_parameter("Routing.properties is required")
    workspace_sid = properties.get("workspace_sid")
    if not isinstance(workspace_sid, str) or not workspace_sid:
        raise invalid_parameter("Routing.properties.workspace_sid is required")
    attributes = properties.get("attributes") or {}
    if isinstance(attributes, str):
        attributes = json_parameter(attributes, "Routing.properties.attributes")
    if not isinstance(attributes, dict):
        raise invalid_parameter("Routing.properties.attributes must be an object")
    routing = RoutingRequest(
        workspace_sid=workspace_sid, workflow_sid=properties.get("workflow_sid"), queue_sid=properties.get("queue_sid"),
        worker_sid=properties.get("worker_sid"),
        task_channel=properties.get("task_channel_sid") or properties.get("task_channel_unique_name"),
        attributes=attributes, priority=_whole(properties.get("priority"), "priority"),
        timeout=_whole(properties.get("timeout"), "timeout"),
    )
    if agent_initiated and not (routing.queue_sid and routing.worker_sid):
        raise invalid_parameter("Routing.properties.queue_sid and worker_sid are required when initiated_by is agent")
    return routing


def _whole(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise invalid_parameter(f"Routing.properties.{name} must be a whole number") from error
    if number < 0:
        raise invalid_parameter(f"Routing.properties.{name} must not be negative")
    return number


def task_attributes(routing: dict[str, Any], *, channel_type: str, initiated_by: str, conversation_sid: str,
                    interaction_sid: str, channel_sid: str, customer_address: str | None, customer_name: str | None,
                    external_contact: str | None = None, invite_sid: str | None = None) -> dict[str, Any]:
    """The routing attributes as given, plus the keys Flex adds to a conversation task (TWILIO-NOTES §5.2)."""
    direction = "outbound" if initiated_by == "agent" else "inbound"
    attributes = dict(routing)
    attributes.update({
        "channelType": channel_type, "conversationSid": conversation_sid, "flexInteractionSid": interaction_sid,
        "flexInteractionChannelSid": channel_sid, "initiatedBy": initiated_by, "direction": direction,
    })
    if customer_address is not None:
        attributes.setdefault("customerAddress", customer_address)
    name = customer_name or customer_address
    if name is not None:
        attributes.setdefault("customerName", name)
        attributes.setdefault("from", name)
        customers = dict(attributes.get("customers") or {})
        customers.setdefault("name", name)
        if customer_address is not None and channel_type in ("sms", "whatsapp", "voice"):
            customers.setdefault("phone", customer_address.removeprefix("whatsapp:"))
        attributes["customers"] = customers
    if invite_sid is not None:
        attributes["flexChannelInviteSid"] = invite_sid
    conversations = dict(attributes.get("conversations") or {})
    conversations.update({
        "initiated_by": initiated_by, "conversation_id": interaction_sid,
        "media": [{"type": "ChatTranscript", "sid": conversation_sid}],
        "communication_channel": COMMUNICATION_CHANNELS[channel_type], "direction": direction.capitalize(),
    })
    if external_contact is not None:
        conversations["external_contact"] = external_contact
    attributes["conversations"] = conversations
    return attributes


# What an invite's or a transfer's task says beyond the channel's own attributes.
INVITE_AND_TRANSFER_KEYS = ("flexChannelInviteSid", "transferTargetType", "transferTargetSid")


def channel_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """A channel task's attributes without what only its invite or transfer meant: the start of the next task
    made for the same channel (an invite, a transfer, a reopening)."""
    return {key: value for key, value in attributes.items() if key not in INVITE_AND_TRANSFER_KEYS}


def agent_identity(worker_attributes: dict[str, Any], friendly_name: str) -> str:
    """The conversation identity of a worker: its `contact_uri` without `client:`, else its name (§5.7)."""
    contact = worker_attributes.get("contact_uri")
    if isinstance(contact, str) and contact.strip():
        return contact.strip().removeprefix("client:")
    return friendly_name
