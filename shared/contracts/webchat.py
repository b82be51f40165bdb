"""Web-chat guests starting a chat: a request from ingress to conversations and its answer.

Request-reply over the fabric: ingress publishes `webchat.start` (on parley.commands, one work queue
in conversations); conversations creates the conversation and the guest participant in one
transaction and announces `webchat.started` (on parley.events, through its outbox) carrying the
request's id; every ingress replica listens on its own queue, and the one holding the request
answers its HTTP caller. An answer that does not come in time is a clear 504 at the caller.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

START_WEB_CHAT = "webchat.start"  # ingress → conversations, on parley.commands
WEB_CHAT_STARTED = "webchat.started"  # conversations → ingress, on parley.events


class StartWebChat(BaseModel):
    """Create a conversation on a `chat`-type address configuration, with the guest as its chat participant."""

    model_config = ConfigDict(extra="ignore")

    request_id: uuid.UUID = Field(description="Echoed in the answer, so the asking replica recognises it.")
    address_sid: str = Field(description="IG… of an address configuration of type chat (or its address).")
    identity: str = Field(description="The guest's chat identity.")
    chat_friendly_name: str | None = None
    customer_friendly_name: str | None = None
    pre_engagement_data: str | None = Field(default=None, description="A JSON object as text, kept in the attributes.")


class WebChatStarted(BaseModel):
    """The answer: the conversation and participant created, or the error the caller should see."""

    model_config = ConfigDict(extra="ignore")

    request_id: uuid.UUID
    identity: str
    account_sid: str | None = Field(default=None, description="The chat's account (a widget's request names none).")
    conversation_sid: str | None = None
    participant_sid: str | None = None
    chat_service_sid: str | None = None
    error_status: int | None = None
    error_code: int | None = None
    error_message: str | None = None
