"""Runs a conversation's flow on the customer's message (`flow.message`), once per conversation.

The execution row claims the conversation: a later message to a conversation whose flow ran (ended or
failed) does not restart it. Send-message states go back to conversations as `flow.send_message` commands
through the outbox; Send to Flex creates the interaction exactly as `POST /flex-api/v1/Interactions` with
`initiated_by: customer` does, and ends the execution.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from services.router.domain.interactions import parse_channel, parse_routing
from services.router.flows import store
from services.router.flows.definition import parse_definition
from services.router.flows.engine import SendMessage, SendToFlex, run, trigger_context
from services.router.handlers import interactions as interaction_handlers
from services.router.store import workflows
from shared.broker.consumer import Consumer
from shared.broker.topology import COMMANDS, ROUTER_FLOW_MESSAGES
from shared.contracts.envelope import Envelope, make_envelope
from shared.contracts.flows import FLOW_SEND_MESSAGE, FlowMessage, FlowSendMessage
from shared.errors import TwilioError
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
        flow = await store.get_flow(conn, account_sid=account_sid, sid=message.flow_sid)
        if flow is None:
            log.warning("studio flow not found", extra={"flow_sid": message.flow_sid, "account_sid": account_sid})
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
    if workflow is None or workflow.account_sid != account_sid:
        log.warning("send-to-flex: workflow not found", extra={"workflow_sid": action.workflow_sid})
        return False
    channel = parse_channel({"type": message.channel_type, "initiated_by": "customer",
                             "properties": {"media_channel_sid": message.conversation_sid}})
    routing = parse_routing({"properties": {"workspace_sid": workflow.workspace_sid, "workflow_sid": workflow.sid,
                                            "task_channel_unique_name": action.task_channel,
                                            "attributes": action.attributes}})
    try:
        await interaction_handlers.create_interaction(
            pool, rpc, account_sid=account_sid, channel=channel, routing=routing, interaction_context_sid=None,
            webhook_ttid=None, base=base)
    except TwilioError as error:
        log.warning("send-to-flex failed: %s", error.message, extra={"conversation_sid": message.conversation_sid})
        return False
    return True
