"""Flex Flows and Web Channels as plain values: the form a client sends, checked, and what each integration needs.

A Flex Flow ties a channel type and a contact identity (the address customers write to, e.g. a Parley SMS
number) to an integration: `studio` runs a Parley flow (FW…), `external` posts the conversation's messages to
a URL, `task` creates the interaction and its task directly with the integration's routing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.errors import invalid_parameter, missing_parameter
from shared.forms import LARGEST_INTEGER, Form

CHANNEL_TYPES = ("web", "sms", "facebook", "whatsapp", "line", "custom")
INTEGRATION_TYPES = ("studio", "external", "task")
# Channel types whose contact identity is an address inbound messages arrive on (a Parley number).
ADDRESS_CHANNEL_TYPES = ("sms", "whatsapp")
# Interactions channel type of a conversation made through a Flex Flow of this channel type.
INTERACTION_CHANNEL = {"web": "web", "sms": "sms", "whatsapp": "whatsapp", "facebook": "messenger", "line": "chat",
                       "custom": "chat"}

_SID = {prefix: re.compile(rf"^{prefix}[0-9a-fA-F]{{32}}$") for prefix in ("IS", "FW", "WS", "WW")}
# Integration.* form field → stored key; the type each belongs to.
_INTEGRATION_FIELDS = {
    "Integration.FlowSid": ("flow_sid", "studio"), "Integration.Url": ("url", "external"),
    "Integration.WorkspaceSid": ("workspace_sid", "task"), "Integration.WorkflowSid": ("workflow_sid", "task"),
    "Integration.Channel": ("channel", "task"), "Integration.Timeout": ("timeout", "task"),
    "Integration.Priority": ("priority", "task"), "Integration.CreationOnMessage": ("creation_on_message", "task"),
    "Integration.RetryCount": ("retry_count", None),
}
# What the answer's `integration` shows for each type.
SHOWN = {"studio": ("flow_sid", "retry_count"), "external": ("url", "retry_count"),
         "task": ("workspace_sid", "workflow_sid", "channel", "timeout", "priority", "creation_on_message")}


@dataclass(frozen=True)
class FlexFlow:
    sid: str
    account_sid: str
    friendly_name: str
    chat_service_sid: str
    channel_type: str
    contact_identity: str | None
    enabled: bool
    integration_type: str
    integration: dict[str, Any]
    long_lived: bool
    janitor_enabled: bool
    date_created: datetime
    date_updated: datetime

    @property
    def answers_address(self) -> str | None:
        """The address inbound messages to which this flow takes, when it takes any."""
        if not (self.enabled and self.channel_type in ADDRESS_CHANNEL_TYPES and self.contact_identity):
            return None
        if self.channel_type == "whatsapp" and not self.contact_identity.startswith("whatsapp:"):
            return f"whatsapp:{self.contact_identity}"  # the form WhatsApp messages arrive addressed to
        return self.contact_identity


@dataclass(frozen=True)
class WebChannel:
    sid: str
    account_sid: str
    flex_flow_sid: str
    identity: str
    post_engagement_data: str | None
    date_created: datetime
    date_updated: datetime


def _sid(form: Form, name: str, prefix: str) -> str | None:
    value = form.str(name)
    if value is not None and not _SID[prefix].match(value):
        raise invalid_parameter(f"Parameter '{name}' must be a {prefix}… SID")
    return value


def read_flex_flow_form(form: Form, *, creating: bool) -> dict[str, Any]:
    """The columns a create or update sets (`integration` holds only the Integration.* fields sent)."""
    values: dict[str, Any] = {}
    if creating or "FriendlyName" in form:
        values["friendly_name"] = form.required("FriendlyName", max_length=256)
    if creating or "ChatServiceSid" in form:
        if form.str("ChatServiceSid") is None:
            raise missing_parameter("ChatServiceSid")
        values["chat_service_sid"] = _sid(form, "ChatServiceSid", "IS")
    if creating or "ChannelType" in form:
        kind = form.choice("ChannelType", CHANNEL_TYPES)
        if kind is None:
            raise missing_parameter("ChannelType")
        values["channel_type"] = kind
    if "ContactIdentity" in form:
        values["contact_identity"] = form.str("ContactIdentity", max_length=256) or None
    for name, column in (("Enabled", "enabled"), ("LongLived", "long_lived"), ("JanitorEnabled", "janitor_enabled")):
        if (flag := form.bool(name)) is not None:
            values[column] = flag
    if (kind := form.choice("IntegrationType", INTEGRATION_TYPES)) is not None:
        values["integration_type"] = kind
    integration: dict[str, Any] = {}
    for name, (key, _) in _INTEGRATION_FIELDS.items():
        if name not in form:
            continue
        if key in ("timeout", "priority"):
            integration[key] = form.int(name, minimum=0 if key == "priority" else 1,
                                        maximum=31536000 if key == "timeout" else LARGEST_INTEGER)
        elif key == "retry_count":
            integration[key] = form.int(name, minimum=0, maximum=3)
        elif key == "creation_on_message":
            integration[key] = form.bool(name)
        elif key in ("flow_sid", "workspace_sid", "workflow_sid"):
            integration[key] = _sid(form, name, {"flow_sid": "FW", "workspace_sid": "WS", "workflow_sid": "WW"}[key])
        else:
            integration[key] = form.str(name, max_length=2048)
    if integration:
        values["integration"] = integration
    return values


def merged_integration_type(values: dict[str, Any], current: FlexFlow | None) -> str:
    """IntegrationType as sent, else as stored, else the one whose Integration.* fields were sent."""
    if "integration_type" in values:
        return str(values["integration_type"])
    if current is not None:
        return current.integration_type
    sent = values.get("integration", {})
    kinds = {kind for name, (key, kind) in _INTEGRATION_FIELDS.items() if key in sent and kind is not None}
    if len(kinds) == 1:
        return kinds.pop()
    raise missing_parameter("IntegrationType")


def check_integration(kind: str, integration: dict[str, Any]) -> None:
    """What each integration type cannot do without (Twilio's 'required when integrationType is …')."""
    needed = {"studio": [("flow_sid", "Integration.FlowSid")], "external": [("url", "Integration.Url")],
              "task": [("workspace_sid", "Integration.WorkspaceSid"), ("workflow_sid", "Integration.WorkflowSid")]}
    for key, name in needed[kind]:
        if not integration.get(key):
            raise invalid_parameter(f"{name} is required when IntegrationType is {kind}")
    url = integration.get("url")
    if kind == "external" and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise invalid_parameter("Integration.Url must be an http(s) URL")


def shown_integration(flow: FlexFlow) -> dict[str, Any]:
    shown = {key: flow.integration.get(key) for key in SHOWN[flow.integration_type] if key in flow.integration}
    if flow.integration_type == "task":
        shown.setdefault("channel", "default")
        shown.setdefault("timeout", 86400)
        shown.setdefault("priority", 0)
        shown.setdefault("creation_on_message", False)
    if flow.integration_type in ("studio", "external"):
        shown.setdefault("retry_count", 3)
    return shown
