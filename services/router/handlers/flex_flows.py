"""What Flex Flows do: tell conversations the addresses they answer, start Web Channels, and hand a customer's
conversation to their integration (run the flow, or create the interaction and its task directly)."""

from __future__ import annotations

import json
from typing import Any

from services.router.domain.flex_flows import INTERACTION_CHANNEL, FlexFlow
from services.router.domain.interactions import parse_channel, parse_routing
from services.router.handlers import interactions as interaction_cases
from services.router.store import interactions as interaction_store
from services.router.store.base import Connection
from shared.broker.topology import COMMANDS
from shared.contracts.flex import (
    FLEX_FLOW_ADDRESSES,
    PREPARE_CONVERSATION,
    ConversationParty,
    ConversationPrepared,
    FlexFlowAddresses,
    FlexFlowAddressesStored,
    PrepareConversation,
)
from shared.errors import TwilioError
from shared.rpc import RpcClient, RpcTimeout, RpcUnroutable

RPC_TIMEOUT = 10.0


async def publish_addresses(rpc: RpcClient, flow: FlexFlow | None, *, account_sid: str, flex_flow_sid: str) -> None:
    """Conversations learns where the flow answers now (nowhere once disabled or deleted); a 503 if it can't."""
    address = flow.answers_address if flow is not None else None
    external = flow is not None and flow.integration_type == "external"
    request = FlexFlowAddresses(flex_flow_sid=flex_flow_sid, chat_service_sid=flow.chat_service_sid if flow else None,
                                addresses=[address] if address else [],
                                webhook_url=flow.integration.get("url") if flow is not None and external else None)
    try:
        await rpc.call(COMMANDS, request, type_=FLEX_FLOW_ADDRESSES, account_sid=account_sid,
                       reply=FlexFlowAddressesStored, timeout=RPC_TIMEOUT)
    except (RpcTimeout, RpcUnroutable) as error:
        raise TwilioError(503, interaction_cases.CONVERSATION_UNAVAILABLE,
                          f"The conversations service could not be told of Flex Flow {flex_flow_sid}: {error}") from error


def task_routing(flow: FlexFlow, attributes: dict[str, Any]) -> dict[str, Any]:
    """The Interactions `Routing` of a task-type Flex Flow."""
    integration = flow.integration
    return {"properties": {
        "workspace_sid": integration.get("workspace_sid"), "workflow_sid": integration.get("workflow_sid"),
        "task_channel_unique_name": integration.get("channel") or "default", "attributes": attributes,
        "priority": integration.get("priority"), "timeout": integration.get("timeout")}}


def creates_task_on_message(flow: FlexFlow) -> bool:
    return flow.integration_type == "task" and bool(flow.integration.get("creation_on_message"))


def runs_on_first_message(flow: FlexFlow) -> str | None:
    """What the customer's first message runs: the studio flow (FW…), or the Flex Flow itself (FO…) when its task
    waits for that message (the router's flow consumer takes an FO… as "create this Flex Flow's task")."""
    if flow.integration_type == "studio":
        return str(flow.integration.get("flow_sid"))
    return flow.sid if creates_task_on_message(flow) else None


async def start_web_channel(rpc: RpcClient, flow: FlexFlow, *, account_sid: str, identity: str,
                            customer_friendly_name: str, chat_friendly_name: str, chat_unique_name: str | None,
                            pre_engagement_data: str | None) -> ConversationPrepared:
    """The web chat's conversation, with the customer as a chat participant and the flow's handler attached."""
    attributes: dict[str, Any] = {"from": customer_friendly_name, "flex_flow_sid": flow.sid}
    if pre_engagement_data:
        try:
            attributes["pre_engagement_data"] = json.loads(pre_engagement_data)
        except ValueError:
            attributes["pre_engagement_data"] = pre_engagement_data
    request = PrepareConversation(
        channel_type="web", friendly_name=chat_friendly_name, unique_name=chat_unique_name,
        attributes=json.dumps(attributes), chat_service_sid=flow.chat_service_sid,
        participants=[ConversationParty(identity=identity, name=customer_friendly_name)],
        studio_flow_sid=runs_on_first_message(flow),
        webhook_url=flow.integration.get("url") if flow.integration_type == "external" else None)
    try:
        answer = await rpc.call(COMMANDS, request, type_=PREPARE_CONVERSATION, account_sid=account_sid,
                                reply=ConversationPrepared, timeout=RPC_TIMEOUT)
    except (RpcTimeout, RpcUnroutable) as error:
        raise TwilioError(503, interaction_cases.CONVERSATION_UNAVAILABLE,
                          f"The web chat could not be created: {error}") from error
    if answer.error_code is not None or answer.conversation_sid is None:
        raise TwilioError(answer.error_status or 400, answer.error_code or 20001,
                          answer.error_message or "The web chat could not be created")
    return answer


async def route_conversation(pool: Any, rpc: RpcClient, flow: FlexFlow, *, account_sid: str, conversation_sid: str,
                             channel_type: str | None, base: str) -> interaction_cases.Created:
    """A task-type Flex Flow's customer conversation becomes an interaction and its task, as Send to Flex does."""
    channel = parse_channel({"type": channel_type or INTERACTION_CHANNEL[flow.channel_type],
                             "initiated_by": "customer", "properties": {"media_channel_sid": conversation_sid}})
    routing = parse_routing(task_routing(flow, {"flexFlowSid": flow.sid}))
    return await interaction_cases.create_interaction(
        pool, rpc, account_sid=account_sid, channel=channel, routing=routing, interaction_context_sid=None,
        webhook_ttid=None, base=base)


async def end_web_chat(conn: Connection, *, account_sid: str, conversation_sid: str, base: str) -> None:
    """`ChatStatus=inactive` or a delete: the chat's open interaction closes (its tasks end), else the conversation."""
    channel = await interaction_store.open_channel_of_conversation(conn, account_sid=account_sid,
                                                                   conversation_sid=conversation_sid)
    if channel is not None:
        locked = await interaction_store.get_channel(conn, account_sid=account_sid, sid=channel.sid, for_update=True)
        if locked is not None and locked.status not in ("closed", "failed"):
            await interaction_cases.close_channel(conn, locked, status="closed", routing_closed=True, base=base)
            return
    await interaction_cases.close_conversation(conn, account_sid=account_sid, conversation_sid=conversation_sid)
