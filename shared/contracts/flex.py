"""Messages between the router's Flex Interactions and the conversations service.

`flex.conversation.prepare` is a request (RPC on parley.commands): the router needs the conversation
now, to put its SID into the task it creates. The other types are commands through the outbox: the
router decided, the conversations service carries them out when it can.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

PREPARE_CONVERSATION = "flex.conversation.prepare"  # router → conversations (RPC request)
CONVERSATION_PREPARED = "flex.conversation.prepared"  # its reply
ADD_AGENT = "flex.agent.add"  # router → conversations, on parley.commands
REMOVE_AGENT = "flex.agent.remove"
CLOSE_CONVERSATION = "flex.conversation.close"


class ConversationParty(BaseModel):
    """One `participants[]` entry of an Interaction's Channel: a messaging pair or a chat identity."""

    model_config = ConfigDict(extra="ignore")

    address: str | None = None
    proxy_address: str | None = None
    identity: str | None = None
    name: str | None = None


class PrepareConversation(BaseModel):
    """Adopt `media_channel_sid`, or create a conversation with `participants` (and the agent, if named)."""

    model_config = ConfigDict(extra="ignore")

    media_channel_sid: str | None = None
    channel_type: str
    participants: list[ConversationParty] = Field(default_factory=list)
    friendly_name: str | None = None
    # A new conversation's details (Web Channels): where it lives, its name and attributes, and what handles
    # its messages — a flow (a scoped studio webhook) or an external URL (a scoped webhook on onMessageAdded).
    chat_service_sid: str | None = None
    unique_name: str | None = None
    attributes: str | None = None
    studio_flow_sid: str | None = None
    webhook_url: str | None = None


class ConversationPrepared(BaseModel):
    """The conversation and its customer; `error_*` set when it could not be adopted or created."""

    model_config = ConfigDict(extra="ignore")

    conversation_sid: str | None = None
    chat_service_sid: str | None = None
    customer_address: str | None = None
    customer_name: str | None = None
    proxy_address: str | None = None
    error_status: int | None = None
    error_code: int | None = None
    error_message: str | None = None


class AgentParticipant(BaseModel):
    """Add or remove an agent (a chat identity) in a conversation."""

    model_config = ConfigDict(extra="ignore")

    conversation_sid: str
    identity: str
    friendly_name: str | None = None
    interaction_sid: str | None = None
    participant_sid: str | None = Field(None, description="The UT… channel participant this agent is.")


class CloseConversation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversation_sid: str


FLEX_FLOW_ADDRESSES = "flex.flow.addresses"  # router → conversations (RPC request): where a Flex Flow answers
FLEX_FLOW_ADDRESSES_STORED = "flex.flow.addresses.stored"  # its reply


class FlexFlowAddresses(BaseModel):
    """The addresses a Flex Flow now answers (empty: none, e.g. disabled or deleted); replaces what was said before."""

    model_config = ConfigDict(extra="ignore")

    flex_flow_sid: str
    chat_service_sid: str | None = None
    addresses: list[str] = Field(default_factory=list)
    webhook_url: str | None = None  # an external integration: new conversations post their messages here


class FlexFlowAddressesStored(BaseModel):
    model_config = ConfigDict(extra="ignore")

    stored: bool = True
