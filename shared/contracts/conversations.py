"""Events the conversations service publishes: the resource as the REST API renders it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CONVERSATION_ADDED = "conversation.added"
CONVERSATION_UPDATED = "conversation.updated"
CONVERSATION_REMOVED = "conversation.removed"
CONVERSATION_STATE_UPDATED = "conversation.state_updated"
PARTICIPANT_ADDED = "participant.added"
PARTICIPANT_UPDATED = "participant.updated"
PARTICIPANT_REMOVED = "participant.removed"
MESSAGE_ADDED = "message.added"
MESSAGE_UPDATED = "message.updated"
MESSAGE_REMOVED = "message.removed"
USER_ADDED = "user.added"
USER_UPDATED = "user.updated"
USER_REMOVED = "user.removed"


class ResourceEvent(BaseModel):
    """A change to a Conversations resource; `resource` has the REST API's JSON shape."""

    model_config = ConfigDict(extra="ignore")

    resource: dict[str, Any]
    source: str = Field("API", description="What caused it: API, SDK, SMS, WHATSAPP…")
    client_identity: str | None = None
    previous_state: str | None = None
    reason: str | None = Field(None, description="For state changes: API, TIMER or EVENT.")
