"""Messages between the conversations service and the router's flows (Studio-like, `/parley/v1/Flows`).

`flow.message` (conversations → router, on parley.commands): a customer's message in a conversation whose
customer address is an address configuration of AutoCreation.Type studio; the router runs the flow once per
conversation. `flow.send_message` (router → conversations): a flow's send-message state, posted into the
conversation by author `system`, which the outbound sends then deliver to the customer.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

FLOW_MESSAGE = "flow.message"
FLOW_SEND_MESSAGE = "flow.send_message"


class FlowMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversation_sid: str
    flow_sid: str
    message_sid: str | None = None
    participant_sid: str | None = None
    author: str | None = None
    body: str | None = None
    channel_type: str = "sms"


class FlowSendMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversation_sid: str
    body: str
    author: str = "system"
