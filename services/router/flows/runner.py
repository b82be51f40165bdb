"""Runs a conversation's flow on the customer's message (`flow.message`), once per conversation.

The execution row claims the conversation: a later message to a conversation whose flow ran (ended or
failed) does not restart it. Send-message states go back to conversations as `flow.send_message` commands
through the outbox; Send to Flex creates the interaction exactly as `POST /flex-api/v1/Interactions` with
`initiated_by: customer` does, and ends the execution. A Flex Flow (FO…) answering the customer's address
runs its studio flow, or (task type) creates the interaction directly. A create that fails leaves a
`failed` interaction channel with the error, since nobody waits on its answer.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from services.router.domain.flex_flows import FlexFlow
from services.router.domain.interactions import ChannelRequest, parse_channel, parse_routing
from services.router.flows import store
from services.router.flows.definition import parse_definition
from services.router.flows.engine import SendMessage, SendToFlex, run, trigger_context
from services.router.handlers import flex_flows as flex_flow_cases
from services.router.handlers import interactions as interaction_handlers
from services.router.store import flex_flows as flex_flow_store
from services.router.store import workflows
from shared.broker.consumer import Consumer
from shared.broker.topology import COMMANDS, ROUTER_FLOW_MESSAGES
from shared.contracts.envelope import Envelope, make_envelope
from shared.contracts.flows import FLOW_SEND_MESSAGE, FlowMessage, FlowSendMessage
from shared.errors import TwilioError, invalid_parameter
from shared.outbox import add_to_outbox
from shared.rpc import RpcClient
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


def flow_messages_consumer(context: ServiceContext, rpc: RpcClient) -> Consumer:
    pool = context.pool
    base = context.settings.external_base_url()

    async def handle(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
        message: FlowMessage = envelope.payload
        account_sid = envelope.account_sid
        if not await store.start_execution(conn, account_sid=account_sid, conversation_sid=message.conversation_sid,
                                           flow_sid=message.flow_sid):
            return  # this conversation's flow ran already
        flow_sid = message.flow_sid
        if flow_sid.startswith("FO"):  # a Flex Flow answers the address: its integration says what runs
            flex_flow = await flex_flow_store.get_flex_flow(conn, account_sid=account_sid, sid=flow_sid)
            if flex_flow is None or not flex_flow.enabled or flex_flow.integration_type == "external":
                await store.finish_execution(conn, conversation_sid=message.conversation_sid, state=None,
                                             variables={}, status="ended" if flex_flow else "failed")
                return
            if flex_flow.integration_type == "task":
                routed = await _route_to_task(rpc, pool, flex_flow, account_sid=account_sid, message=message,
                                              base=base)
                await store.finish_execution(conn, conversation_sid=message.conversation_sid, state=None,
                                             variables={}, status="ended" if routed else "failed")
                return
            flow_sid = str(flex_flow.integration.get("flow_sid"))
        flow = await store.get_flow(conn, account_sid=account_sid, sid=flow_sid)
        if flow is None:
            log.warning("studio flow not found", extra={"flow_sid": flow_sid, "account_sid": account_sid})
            await store.finish_execution(conn, conversation_sid=message.conversation_sid, state=None, variables={},
                                         status="failed")
            return
        trigger = trigger_context(conversation_sid=message.conversation_sid, author=message.author,
                                  body=message.body, message_sid=message.message_sid,
                                  participant_sid=message.participant_sid)
        walk = run(parse_definition(flow.definition), trigger)
        status = walk.status
        for action in walk.actions:
            if isinstance(action, SendMessage):
                await add_to_outbox(conn, exchange=COMMANDS, envelope=make_envelope(
                    FLOW_SEND_MESSAGE, FlowSendMessage(conversation_sid=message.conversation_sid, body=action.body),
                    account_sid=account_sid, correlation_id=str(envelope.message_id)))
            elif isinstance(action, SendToFlex):
                if not await _send_to_flex(conn, rpc, pool, account_sid=account_sid, message=message, action=action,
                                           base=base):
                    status = "failed"
        await store.finish_execution(conn, conversation_sid=message.conversation_sid, state=walk.state,
                                     variables=walk.variables, status=status)

    return Consumer(queue=ROUTER_FLOW_MESSAGES, payload=FlowMessage, handler=handle,
                    sequence_by=lambda envelope: envelope.payload.conversation_sid)


async def _send_to_flex(conn: asyncpg.Connection, rpc: RpcClient, pool: Any, *, account_sid: str,
                        message: FlowMessage, action: SendToFlex, base: str) -> bool:
    workflow = await workflows.get_workflow_by_sid(conn, sid=action.workflow_sid)
    channel = parse_channel({"type": message.channel_type, "initiated_by": "customer",
                             "properties": {"media_channel_sid": message.conversation_sid}})
    if workflow is None or workflow.account_sid != account_sid:
        await _failed(pool, account_sid=account_sid, channel=channel, workspace_sid=None,
                      error=invalid_parameter(f"Send to Flex: Workflow {action.workflow_sid} was not found"))
        return False
    routing = parse_routing({"properties": {"workspace_sid": workflow.workspace_sid, "workflow_sid": workflow.sid,
                                            "task_channel_unique_name": action.task_channel,
                                            "attributes": action.attributes}})
    try:
        await interaction_handlers.create_interaction(
            pool, rpc, account_sid=account_sid, channel=channel, routing=routing, interaction_context_sid=None,
            webhook_ttid=None, base=base)
    except TwilioError as error:
        await _failed(pool, account_sid=account_sid, channel=channel, workspace_sid=workflow.workspace_sid, error=error)
        return False
    return True


async def _route_to_task(rpc: RpcClient, pool: Any, flex_flow: FlexFlow, *, account_sid: str, message: FlowMessage,
                         base: str) -> bool:
    try:
        await flex_flow_cases.route_conversation(pool, rpc, flex_flow, account_sid=account_sid,
                                                 conversation_sid=message.conversation_sid,
                                                 channel_type=message.channel_type, base=base)
    except TwilioError as error:
        channel = parse_channel({"type": message.channel_type, "initiated_by": "customer",
                                 "properties": {"media_channel_sid": message.conversation_sid}})
        await _failed(pool, account_sid=account_sid, channel=channel,
                      workspace_sid=flex_flow.integration.get("workspace_sid"), error=error)
        return False
    return True


async def _failed(pool: Any, *, account_sid: str, channel: ChannelRequest, workspace_sid: str | None,
                  error: TwilioError) -> None:
    """Nobody waits on this create: its failure is kept on a `failed` interaction channel, and logged."""
    failed = await interaction_handlers.record_failed(pool, account_sid=account_sid, channel=channel,
                                                      workspace_sid=workspace_sid, error=error)
    log.warning("send-to-flex failed: %s", error.message, extra={
        "conversation_sid": channel.media_channel_sid, "interaction_sid": failed.interaction_sid,
        "channel_sid": failed.sid})
