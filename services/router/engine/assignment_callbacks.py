"""Asking a workflow's AssignmentCallbackUrl about each new reservation, and acting on the answer.

The reservation's transaction puts an `router.assignment.callback` command in the outbox; this
consumer (any router instance) asks the URL through the webhooks service's pre-event RPC (signed,
under the egress policy, one attempt in 5 s as TaskRouter gives it; on failure, once more at the
workflow's FallbackAssignmentCallbackUrl), then, in a transaction, accepts or rejects the
reservation if it is still pending. See domain/assignment.py for what each answer means.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from services.router.domain.assignment import ANSWER_FIELDS, Instruction, instruction_of
from services.router.handlers import reservations as offers
from services.router.store import activities, reservations, workspaces
from services.router.store.locks import lock_reservation
from shared.broker.consumer import PreparedConsumer
from shared.broker.topology import COMMANDS, ROUTER_ASSIGNMENT_CALLBACKS
from shared.contracts.envelope import Envelope
from shared.contracts.router import AssignmentCallback
from shared.contracts.webhooks import ASK_PRE_EVENT, PreEventReply, PreEventRequest
from shared.rpc import RpcClient, RpcTimeout, RpcUnroutable
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)

ANSWER_TIMEOUT_SECONDS = 5.0  # TaskRouter's assignment callback timeout
REPLY_MARGIN_SECONDS = 2.0


def assignment_callbacks_consumer(context: ServiceContext, rpc: RpcClient) -> PreparedConsumer:
    base = context.settings.external_base_url()

    async def ask(envelope: Envelope[Any], url: str) -> PreEventReply:
        callback: AssignmentCallback = envelope.payload
        request = PreEventRequest(event_type="assignment", target="workflow", url=url, params=callback.params,
                                  modifiable=list(ANSWER_FIELDS), timeout_seconds=ANSWER_TIMEOUT_SECONDS)
        try:
            return await rpc.call(COMMANDS, request, type_=ASK_PRE_EVENT, account_sid=envelope.account_sid,
                                  reply=PreEventReply, timeout=ANSWER_TIMEOUT_SECONDS + REPLY_MARGIN_SECONDS,
                                  correlation_id=callback.reservation_sid)
        except (RpcTimeout, RpcUnroutable) as error:
            return PreEventReply(outcome="unanswered", error=str(error))

    async def prepare(envelope: Envelope[Any]) -> Instruction:
        callback: AssignmentCallback = envelope.payload
        reply = await ask(envelope, callback.url)
        if reply.outcome not in ("allowed", "modified") and callback.fallback_url:
            reply = await ask(envelope, callback.fallback_url)
        if reply.outcome not in ("allowed", "modified"):
            log.warning("assignment callback not answered with a 2xx; the reservation stays pending", extra={
                "reservation_sid": callback.reservation_sid, "outcome": reply.outcome, "error": reply.error})
            return Instruction("none")
        return instruction_of(reply.fields)

    async def act(conn: asyncpg.Connection, envelope: Envelope[Any], instruction: Instruction) -> None:
        callback: AssignmentCallback = envelope.payload
        if instruction.kind == "voice":
            log.warning("assignment instruction %r needs a voice call; ignored, the reservation stays pending",
                        instruction.given, extra={"reservation_sid": callback.reservation_sid})
            return
        if instruction.kind == "none":
            return
        if not await lock_reservation(conn, sid=callback.reservation_sid, statuses=["pending"]):
            return  # answered meanwhile (REST, timeout, cancel): the first answer stands
        workspace = await workspaces.get_workspace_by_sid(conn, sid=callback.workspace_sid)
        reservation = await reservations.get_reservation(conn, workspace_sid=callback.workspace_sid,
                                                         sid=callback.reservation_sid)
        if workspace is None or reservation is None:
            return
        if instruction.kind == "accept":
            await offers.accept(conn, workspace, reservation, base=base)
            return
        activity = None
        if instruction.activity_sid:
            activity = await activities.get_activity(conn, workspace_sid=workspace.sid, sid=instruction.activity_sid)
            if activity is None:
                log.warning("reject instruction names an unknown activity; the worker keeps its activity",
                            extra={"reservation_sid": reservation.sid, "activity_sid": instruction.activity_sid})
        await offers.reject(conn, workspace, reservation, activity=activity, base=base)

    return PreparedConsumer(queue=ROUTER_ASSIGNMENT_CALLBACKS, payload=AssignmentCallback, prepare=prepare,
                            prepared_handler=act)
