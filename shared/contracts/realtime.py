"""Messages of the realtime connection: conversation events ready to fan out, typing, read horizons.

All travel on parley.events so every ingress replica (each with its own queue) sees them:
- `realtime.event`: a conversation event (message added/updated/removed, participant added/removed)
  that ingress has logged for resume; `log_id` orders message events and names them for de-duplication.
- `realtime.typing`: a chat participant is typing (ephemeral: never stored).
- `realtime.read_horizon`: a chat participant has read up to a message index; forwarded to the other
  participants at once, and for the conversations service to record as `last_read_message_index`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

REALTIME_EVENT = "realtime.event"
TYPING = "realtime.typing"
READ_HORIZON = "realtime.read_horizon"


class RealtimeEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversation_sid: str
    event_type: str = Field(description="The conversation event's type, e.g. `message.added`.")
    resource: dict[str, Any] = Field(description="The resource as the REST API renders it.")
    message_index: int | None = None
    identity: str | None = Field(default=None, description="For participant events: the chat identity joining or leaving.")
    log_id: int | None = Field(default=None, description="For message events: their place in ingress's resume log.")


class TypingIndicator(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversation_sid: str
    identity: str
    origin: str | None = Field(default=None, description="The connection that sent it, which does not get it back.")


class ReadHorizonUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversation_sid: str
    identity: str
    last_read_message_index: int = Field(ge=0)
    origin: str | None = None
