"""Runs a conversation's flow on the customer's message (`flow.message`), once per conversation.

The execution row claims the conversation: a later message to a conversation whose flow ran (ended or
failed) does not restart it; one waiting at send-and-wait-for-reply goes on with that message, or with its
`timeout` transition once the wait is over. Send-message states go back to conversations as `flow.send_message` commands
through the outbox; Send to Flex creates the interaction exactly as `POST /flex-api/v1/Interactions` with
`initiated_by: customer` does, and ends the execution. A Flex Flow (FO…) answering the customer's address
runs its studio flow, or (task type) creates the interaction directly. A create that fails leaves a
`failed` interaction channel with the error, since nobody waits on its answer.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg

from services.router.domain.flex_flows import FlexFlow
from services.router.domain.interactions import ChannelRequest, parse_channel, parse_routing
from services.router.flows import store
from services.router.flows.definition import parse_definition
from services.router.flows.engine import Resume, SendMessage, SendToFlex, Walk, run, trigger_context
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

FLOWS_AT_ONCE = 4  # below the pool's 10 connections: see flow_messages_consumer


def flow_messages_consumer(context: ServiceContext, rpc: RpcClient) -> Consumer:
    runner = FlowRunner(context, rpc)

    async def handle(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
        await runner.on_message(conn, envelope)

    # Send to Flex and a task Flex Flow create the interaction on connections of their own (after asking
    # conversations to prepare it) while the handler's transaction holds one: a few at a time, not a prefetch.
    return Consumer(queue=ROUTER_FLOW_MESSAGES, payload=FlowMessage, handler=handle,
                    sequence_by=lambda envelope: envelope.payload.conversation_sid, concurrency=FLOWS_AT_ONCE)


class FlowRunner:
    """Starts a conversation's flow on its first customer message, resumes a waiting one on the next message or
    when its wait is over (`run_timeouts`, a service loop: every instance polls, SKIP LOCKED shares the work)."""

    def __init__(self, context: ServiceContext, rpc: RpcClient) -> None:
        self._pool = context.pool
        self._rpc = rpc
        self._base = context.settings.external_base_url()
        self._poll_interval = context.settings.poll_interval_seconds

    async def on_message(self, conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
        message: FlowMessage = envelope.payload
        account_sid = envelope.account_sid
        correlation_id = str(envelope.message_id)
        reply = trigger_context(conversation_sid=message.conversation_sid, author=message.author, body=message.body,
                                message_sid=message.message_sid, participant_sid=message.participant_sid)
        reply["conversation"]["ChannelType"] = message.channel_type
        if await store.start_execution(conn, account_sid=account_sid, conversation_sid=message.conversation_sid,
                                       flow_sid=message.flow_sid, message_sid=message.message_sid):
            await self._advance(conn, account_sid=account_sid, flow_sid=message.flow_sid, trigger=reply, resume=None,
                                correlation_id=correlation_id)
            return
        execution = await store.lock_execution(conn, conversation_sid=message.conversation_sid)
        if execution is None or execution.status != "waiting" or execution.current_state is None:
            return  # this conversation's flow ran already
        await store.take_message(conn, conversation_sid=message.conversation_sid, message_sid=message.message_sid)
        await self._advance(conn, account_sid=account_sid, flow_sid=execution.flow_sid, trigger=execution.trigger,
                            variables=execution.variables, widgets=execution.widgets, correlation_id=correlation_id,
                            resume=Resume(state=execution.current_state, event="incomingMessage",
                                          reply=reply["message"]))

    async def run_timeouts(self) -> None:
        while True:
            if not await self.time_out_one():
                await asyncio.sleep(min(self._poll_interval, 0.25))

    async def time_out_one(self) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            execution = await store.lock_due_wait(conn, now=datetime.now(UTC))
            if execution is None or execution.current_state is None:
                return False
            await self._advance(conn, account_sid=execution.account_sid, flow_sid=execution.flow_sid,
                                trigger=execution.trigger, variables=execution.variables, widgets=execution.widgets,
                                resume=Resume(state=execution.current_state, event="timeout"), correlation_id=None)
            return True

    async def _advance(self, conn: asyncpg.Connection, *, account_sid: str, flow_sid: str, trigger: dict[str, Any],
                       resume: Resume | None, correlation_id: str | None, variables: dict[str, Any] | None = None,
                       widgets: dict[str, Any] | None = None) -> None:
        conversation_sid = trigger["conversation"]["ConversationSid"]
        channel_type = trigger["conversation"].get("ChannelType", "sms")

        async def finish(status: str, walk: Walk | None = None) -> None:
            await store.finish_execution(
                conn, conversation_sid=conversation_sid, state=walk.state if walk else None,
                variables=walk.variables if walk else {}, status=status, trigger=trigger,
                widgets=walk.widgets if walk else {}, wait_seconds=walk.wait_seconds if walk else None)

        if flow_sid.startswith("FO"):  # a Flex Flow answers the address: its integration says what runs
            flex_flow = await flex_flow_store.get_flex_flow(conn, account_sid=account_sid, sid=flow_sid)
            if flex_flow is None or not flex_flow.enabled or flex_flow.integration_type == "external":
                await finish("ended" if flex_flow else "failed")
                return
            if flex_flow.integration_type == "task":
                routed = await _route_to_task(self._rpc, self._pool, flex_flow, account_sid=account_sid,
                                              conversation_sid=conversation_sid, channel_type=channel_type,
                                              base=self._base)
                await finish("ended" if routed else "failed")
                return
            flow_sid = str(flex_flow.integration.get("flow_sid"))
        flow = await store.get_flow(conn, account_sid=account_sid, sid=flow_sid)
        if flow is None:
            log.warning("studio flow not found", extra={"flow_sid": flow_sid, "account_sid": account_sid})
            await finish("failed")
            return
        walk = run(parse_definition(flow.definition), trigger, variables, widgets=widgets, resume=resume)
        status = walk.status
        for action in walk.actions:
            if isinstance(action, SendMessage):
                await add_to_outbox(conn, exchange=COMMANDS, envelope=make_envelope(
                    FLOW_SEND_MESSAGE, FlowSendMessage(conversation_sid=conversation_sid, body=action.body),
                    account_sid=account_sid, correlation_id=correlation_id))
            elif isinstance(action, SendToFlex):
                if not await _send_to_flex(conn, self._rpc, self._pool, account_sid=account_sid,
                                           conversation_sid=conversation_sid, channel_type=channel_type,
                                           action=action, base=self._base):
                    status = "failed"
        await finish(status, walk)


async def _send_to_flex(conn: asyncpg.Connection, rpc: RpcClient, pool: Any, *, account_sid: str,
                        conversation_sid: str, channel_type: str, action: SendToFlex, base: str) -> bool:
    workflow = await workflows.get_workflow_by_sid(conn, sid=action.workflow_sid)
    channel = parse_channel({"type": channel_type, "initiated_by": "customer",
                             "properties": {"media_channel_sid": conversation_sid}})
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


async def _route_to_task(rpc: RpcClient, pool: Any, flex_flow: FlexFlow, *, account_sid: str,
                         conversation_sid: str, channel_type: str, base: str) -> bool:
    try:
        await flex_flow_cases.route_conversation(pool, rpc, flex_flow, account_sid=account_sid,
                                                 conversation_sid=conversation_sid, channel_type=channel_type,
                                                 base=base)
    except TwilioError as error:
        channel = parse_channel({"type": channel_type, "initiated_by": "customer",
                                 "properties": {"media_channel_sid": conversation_sid}})
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
