"""Flex Interactions: create (adopting or creating the conversation, creating the task), the agent joining on
accept, wrap-up and close of participants and channels, invites and transfers.

The conversation lives in the conversations service: the router asks for it (RPC) when it needs its SID now,
and otherwise sends commands through the outbox in the same transaction as its own change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from services.router.domain.interactions import (
    ChannelParticipant,
    ChannelRequest,
    Interaction,
    InteractionChannel,
    Invite,
    RoutingRequest,
    Transfer,
    agent_identity,
    channel_attributes,
    task_attributes,
)
from services.router.domain.models import Reservation, Task, TaskChannel, Workflow, Workspace, attributes_of
from services.router.domain.routing import Step
from services.router.handlers import reservations as offers
from services.router.handlers import tasks as task_cases
from services.router.handlers.routing import enter_step, load_task, reserve
from services.router.store import interactions as store
from services.router.store import reservations, task_channels, task_queues, tasks, workers, workflows, workspaces
from services.router.store.base import Connection, Keyset
from shared.broker.topology import COMMANDS
from shared.contracts.envelope import make_envelope
from shared.contracts.flex import (
    ADD_AGENT,
    CLOSE_CONVERSATION,
    PREPARE_CONVERSATION,
    REMOVE_AGENT,
    AgentParticipant,
    CloseConversation,
    ConversationParty,
    ConversationPrepared,
    PrepareConversation,
)
from shared.errors import TwilioError, invalid_parameter, not_found
from shared.outbox import add_to_outbox
from shared.rpc import RpcClient, RpcTimeout, RpcUnroutable

# Parley's own codes (9xxxx): Twilio defines none for these.
CONVERSATION_UNAVAILABLE = 90801
CONVERSATION_ROUTED = 90802
PREPARE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Created:
    interaction: Interaction
    channel: InteractionChannel
    task: Task


@dataclass(frozen=True)
class RoutingTarget:
    """What a Routing JSON resolved to in one workspace."""

    workspace: Workspace
    workflow: Workflow | None
    channel: TaskChannel
    queue_sid: str | None
    worker_sid: str | None


async def resolve_routing(conn: Connection, *, account_sid: str, routing: RoutingRequest, default_channel: str,
                          default_workflow: bool = True) -> RoutingTarget:
    """Without `default_workflow` a routing naming no workflow has none (straight to its queue or worker), as a
    channel's kept routing says of a task that went that way; else the Workspace's only Workflow is taken."""
    workspace = await workspaces.get_workspace(conn, account_sid=account_sid, sid=routing.workspace_sid)
    if workspace is None:
        raise invalid_parameter(f"Routing.properties.workspace_sid {routing.workspace_sid} is not a Workspace")
    wanted = routing.task_channel or default_channel
    channel = await task_channels.get_task_channel(conn, workspace_sid=workspace.sid, sid_or_unique_name=wanted)
    if channel is None and routing.task_channel is None:
        channel = await task_channels.get_task_channel(conn, workspace_sid=workspace.sid, sid_or_unique_name="default")
    if channel is None:
        raise invalid_parameter(f"Routing task channel {wanted} is not a TaskChannel of this Workspace")
    if routing.queue_sid is not None and \
            await task_queues.get_task_queue(conn, workspace_sid=workspace.sid, sid=routing.queue_sid) is None:
        raise invalid_parameter(f"Routing.properties.queue_sid {routing.queue_sid} is not a TaskQueue of this Workspace")
    if routing.worker_sid is not None and \
            await workers.get_worker(conn, workspace_sid=workspace.sid, sid=routing.worker_sid) is None:
        raise invalid_parameter(f"Routing.properties.worker_sid {routing.worker_sid} is not a Worker of this Workspace")
    workflow = None
    if routing.workflow_sid is not None:
        workflow = await workflows.get_workflow(conn, workspace_sid=workspace.sid, sid=routing.workflow_sid)
        if workflow is None:
            raise invalid_parameter(f"Routing.properties.workflow_sid {routing.workflow_sid} is not a Workflow")
    elif routing.worker_sid is None and default_workflow:
        only = await workflows.list_workflows(conn, workspace_sid=workspace.sid, friendly_name=None,
                                              keyset=Keyset(after=None, before=None, limit=2))
        if len(only) != 1:
            raise invalid_parameter("Routing.properties.workflow_sid is required when the Workspace has no single Workflow")
        workflow = only[0]
    return RoutingTarget(workspace=workspace, workflow=workflow, channel=channel, queue_sid=routing.queue_sid,
                         worker_sid=routing.worker_sid)


async def prepare_conversation(rpc: RpcClient, *, account_sid: str, channel: ChannelRequest) -> ConversationPrepared:
    request = PrepareConversation(
        media_channel_sid=channel.media_channel_sid, channel_type=channel.type,
        participants=[ConversationParty.model_validate(entry) for entry in channel.participants],
    )
    try:
        answer = await rpc.call(COMMANDS, request, type_=PREPARE_CONVERSATION, account_sid=account_sid,
                                reply=ConversationPrepared, timeout=PREPARE_TIMEOUT)
    except (RpcTimeout, RpcUnroutable) as error:
        raise TwilioError(503, CONVERSATION_UNAVAILABLE, f"The conversation could not be prepared: {error}") from error
    if answer.error_code is not None or answer.conversation_sid is None:
        raise TwilioError(answer.error_status or 400, answer.error_code or 20001,
                          answer.error_message or "The conversation could not be prepared")
    return answer


async def create_interaction(pool: Any, rpc: RpcClient, *, account_sid: str, channel: ChannelRequest,
                             routing: RoutingRequest, interaction_context_sid: str | None, webhook_ttid: str | None,
                             base: str) -> Created:
    default_channel = "chat" if channel.type in ("web", "chat", "sms", "whatsapp", "messenger", "gbm") else "default"
    await resolve_routing(pool, account_sid=account_sid, routing=routing, default_channel=default_channel)
    if channel.media_channel_sid is not None and await store.open_channel_of_conversation(
            pool, account_sid=account_sid, conversation_sid=channel.media_channel_sid) is not None:
        raise conversation_routed(channel.media_channel_sid)
    conversation = await prepare_conversation(rpc, account_sid=account_sid, channel=channel)
    assert conversation.conversation_sid is not None
    async with pool.acquire() as conn, conn.transaction():
        target = await resolve_routing(conn, account_sid=account_sid, routing=routing, default_channel=default_channel)
        interaction = await store.insert_interaction(conn, account_sid=account_sid,
                                                     interaction_context_sid=interaction_context_sid,
                                                     webhook_ttid=webhook_ttid)
        try:
            opened = await store.insert_channel(
                conn, account_sid=account_sid, interaction_sid=interaction.sid, type=channel.type,
                initiated_by=channel.initiated_by, media_channel_sid=conversation.conversation_sid,
                workspace_sid=target.workspace.sid, status="active")
        except store.ConversationTaken as error:
            raise conversation_routed(conversation.conversation_sid) from error
        if conversation.customer_address is not None:
            await store.insert_participant(
                conn, account_sid=account_sid, channel=opened, type="customer", identity=conversation.customer_address,
                media_properties=json.dumps({"conversationSid": conversation.conversation_sid,
                                             "messagingBinding": {"address": conversation.customer_address,
                                                                  "proxyAddress": conversation.proxy_address}}))
        attributes = task_attributes(
            routing.attributes, channel_type=channel.type, initiated_by=channel.initiated_by,
            conversation_sid=conversation.conversation_sid, interaction_sid=interaction.sid, channel_sid=opened.sid,
            customer_address=conversation.customer_address, customer_name=conversation.customer_name,
            external_contact=conversation.proxy_address)
        task = await new_channel_task(conn, target, opened, attributes=attributes, routing=routing,
                                      accept=channel.initiated_by == "agent", base=base)
    return Created(interaction=interaction, channel=opened, task=task)


async def record_failed(pool: Any, *, account_sid: str, channel: ChannelRequest, workspace_sid: str | None,
                        error: TwilioError) -> InteractionChannel:
    """Where nobody is waiting on the answer (a flow's Send to Flex, a Flex Flow's task), a create that failed
    leaves its interaction with a `failed` channel carrying the error, as Twilio's asynchronous set-up does."""
    async with pool.acquire() as conn, conn.transaction():
        interaction = await store.insert_interaction(conn, account_sid=account_sid, interaction_context_sid=None,
                                                     webhook_ttid=None)
        failed = await store.insert_channel(
            conn, account_sid=account_sid, interaction_sid=interaction.sid, type=channel.type,
            initiated_by=channel.initiated_by, media_channel_sid=channel.media_channel_sid,
            workspace_sid=workspace_sid, status="failed")
        return await store.update_channel(conn, sid=failed.sid, values={"error_code": error.code,
                                                                        "error_message": error.message})


def conversation_routed(conversation_sid: str) -> TwilioError:
    return TwilioError(409, CONVERSATION_ROUTED, f"Conversation {conversation_sid} already has an open interaction")


async def new_channel_task(conn: Connection, target: RoutingTarget, channel: InteractionChannel, *,
                           attributes: dict[str, Any], routing: RoutingRequest, accept: bool, base: str,
                           invite_sid: str | None = None, transfer_sid: str | None = None) -> Task:
    """A task for the channel: through the workflow, or straight to one named worker (reserved, accepted if asked).

    A named worker is offered the task even when a workflow is named too: the workflow then only places it in
    a queue (when no queue_sid says which), the way a task for a known worker still has one."""
    direct = target.worker_sid is not None
    through_workflow = target.workflow is not None and not (direct and (accept or target.queue_sid is not None))
    task = await task_cases.create_task(
        conn, target.workspace, workflow=target.workflow if through_workflow else None,
        attributes=json.dumps(attributes), priority=routing.priority or 0, timeout=routing.timeout or 86400,
        channel=target.channel, routing_target=target.worker_sid, ignore_capacity=False, virtual_start_time=None,
        base=base)
    await store.insert_interaction_task(conn, task_sid=task.sid, channel_sid=channel.sid,
                                        workspace_sid=target.workspace.sid, invite_sid=invite_sid,
                                        transfer_sid=transfer_sid)
    await store.set_channel_routing(conn, sid=channel.sid, routing=RoutingRequest(
        workspace_sid=target.workspace.sid, workflow_sid=target.workflow.sid if target.workflow else None,
        queue_sid=target.queue_sid, worker_sid=target.worker_sid, task_channel=target.channel.sid,
        priority=routing.priority, timeout=routing.timeout))
    if direct:
        assert target.worker_sid is not None
        task = await reserve_for_worker(conn, target, task, worker_sid=target.worker_sid, accept=accept, base=base)
    elif target.queue_sid is not None and target.workflow is None:
        task = await enter_step(conn, target.workspace, task, Step(filter_index=None, target_index=0,
                                                                   queue_sid=target.queue_sid, priority=task.priority),
                                base=base)
    return task


async def reserve_for_worker(conn: Connection, target: RoutingTarget, task: Task, *, worker_sid: str, accept: bool,
                             base: str) -> Task:
    """Agent-initiated (and direct invites): the task is offered to that worker alone, and accepted when asked."""
    queue_sid = target.queue_sid or task.task_queue_sid
    queue = await task_queues.get_task_queue(conn, workspace_sid=target.workspace.sid, sid=queue_sid) if queue_sid else None
    worker = await workers.get_worker(conn, workspace_sid=target.workspace.sid, sid=worker_sid)
    if queue is None or worker is None:
        raise invalid_parameter("A task for one worker needs Routing.properties.queue_sid and worker_sid")
    await tasks.update_task(conn, sid=task.sid, values={"task_queue_sid": queue.sid})
    if not await workers.take_capacity(conn, worker_sid=worker.sid, task_channel_sid=task.task_channel_sid):
        # The agent asked for this contact: it is theirs even when busy or not "available".
        await store.hold_capacity(conn, worker_sid=worker.sid, task_channel_sid=task.task_channel_sid)
    task = await load_task(conn, target.workspace.sid, task.sid)
    reservation_sid = await reserve(conn, target.workspace, task, queue, worker, reservation_timeout=120, base=base)
    if accept:
        reservation = await reservations.get_reservation(conn, workspace_sid=target.workspace.sid, sid=reservation_sid)
        assert reservation is not None
        await offers.accept(conn, target.workspace, reservation, base=base)
    return await load_task(conn, target.workspace.sid, task.sid)


async def agent_accepted(conn: Connection, workspace: Workspace, reservation: Reservation, *, base: str) -> None:
    """A reservation of an interaction's task was accepted: the worker joins the channel and its conversation."""
    link = await store.get_interaction_task(conn, task_sid=reservation.task_sid)
    if link is None:
        return
    channel = await store.get_channel(conn, account_sid=workspace.account_sid, sid=link["channel_sid"], for_update=True)
    if channel is None or channel.media_channel_sid is None:
        return
    worker = await workers.get_worker(conn, workspace_sid=workspace.sid, sid=reservation.worker_sid)
    assert worker is not None
    identity = agent_identity(attributes_of(worker.attributes), worker.friendly_name)
    participant = await store.insert_participant(
        conn, account_sid=workspace.account_sid, channel=channel, type="agent", identity=identity,
        media_properties=json.dumps({"conversationSid": channel.media_channel_sid, "identity": identity}),
        task_sid=reservation.task_sid, worker_sid=worker.sid, reservation_sid=reservation.sid)
    await command(conn, workspace.account_sid, ADD_AGENT, AgentParticipant(
        conversation_sid=channel.media_channel_sid, identity=identity, friendly_name=worker.friendly_name,
        interaction_sid=channel.interaction_sid, participant_sid=participant.sid))
    if link["transfer_sid"] is not None:
        transfer = await store.set_transfer_status(conn, sid=link["transfer_sid"], status="completed")
        if transfer.type == "cold":
            leaving = await store.get_participant(conn, channel_sid=channel.sid, sid=transfer.from_participant_sid,
                                                  for_update=True)
            if leaving is not None and leaving.status != "closed":
                await leave(conn, channel, leaving, status="closed", base=base)


async def command(conn: Connection, account_sid: str, type_: str, payload: BaseModel) -> None:
    await add_to_outbox(conn, exchange=COMMANDS, envelope=make_envelope(type_, payload, account_sid=account_sid))


async def leave(conn: Connection, channel: InteractionChannel, participant: ChannelParticipant, *, status: str,
                base: str) -> ChannelParticipant:
    """`wrapup`: the agent's task wraps up, the agent still sees the conversation. `closed`: the task completes
    (capacity back) and the agent leaves the conversation."""
    if participant.status == "closed":
        raise invalid_parameter(f"Participant {participant.sid} is closed already")
    if participant.type == "agent" and participant.reservation_sid is not None and channel.workspace_sid is not None:
        workspace = await workspaces.get_workspace_by_sid(conn, sid=channel.workspace_sid)
        reservation = await reservations.get_reservation(conn, workspace_sid=channel.workspace_sid,
                                                         sid=participant.reservation_sid, for_update=True)
        if workspace is not None and reservation is not None:
            if status == "wrapup" and reservation.reservation_status == "accepted":
                await offers.wrap_up(conn, workspace, reservation, base=base)
            elif status == "closed" and reservation.reservation_status in ("accepted", "wrapping"):
                await offers.complete(conn, workspace, reservation, base=base)
    if status == "closed" and channel.media_channel_sid is not None and participant.identity is not None \
            and participant.type != "customer":
        await command(conn, channel.account_sid, REMOVE_AGENT, AgentParticipant(
            conversation_sid=channel.media_channel_sid, identity=participant.identity,
            interaction_sid=channel.interaction_sid, participant_sid=participant.sid))
    return await store.set_participant_status(conn, sid=participant.sid, status=status)


async def close_channel(conn: Connection, channel: InteractionChannel, *, status: str, routing_closed: bool,
                        base: str) -> InteractionChannel:
    """`closed`: every task of the channel wraps up (completes with Routing status closed), the conversation
    closes. `inactive` (parking): the tasks likewise, the conversation stays open."""
    if channel.status in ("closed", "failed"):
        raise invalid_parameter(f"Channel {channel.sid} is {channel.status} already")
    # The new status first: canceling the channel's waiting tasks below must not close it a second time.
    updated = await store.update_channel(conn, sid=channel.sid, values={"status": status})
    for workspace_sid, task_sid in await store.tasks_of_channel(conn, channel_sid=channel.sid):
        workspace = await workspaces.get_workspace_by_sid(conn, sid=workspace_sid)
        task = await tasks.get_task(conn, workspace_sid=workspace_sid, sid=task_sid, for_update=True)
        if workspace is None or task is None:
            continue
        if task.assignment_status in ("pending", "reserved"):
            await task_cases.cancel_task(conn, workspace, task, reason="Interaction channel closed", base=base)
        elif routing_closed and task.assignment_status in ("assigned", "wrapping"):
            await task_cases.complete_task(conn, workspace, task, reason="Interaction channel closed", base=base)
        elif task.assignment_status == "assigned":
            await task_cases.wrap_up_task(conn, workspace, task, reason="Interaction channel closed", base=base)
    for agent in await store.agents_of_channel(conn, channel_sid=channel.sid, statuses=["joined", "wrapup"]):
        await store.set_participant_status(conn, sid=agent.sid, status="closed" if routing_closed else "wrapup")
    if status == "closed" and channel.media_channel_sid is not None:
        await close_conversation(conn, account_sid=channel.account_sid, conversation_sid=channel.media_channel_sid)
    return updated


async def close_conversation(conn: Connection, *, account_sid: str, conversation_sid: str) -> None:
    await command(conn, account_sid, CLOSE_CONVERSATION, CloseConversation(conversation_sid=conversation_sid))


async def interaction_task_canceled(conn: Connection, task: Task, *, base: str) -> None:
    """A channel's routing task was canceled (by the API or its TTL) before any agent held the channel: nobody will
    ever answer, so the channel and its conversation close, rather than stay open for nobody (Flex leaves that to
    the business's handler of task.canceled; Parley does it). An invite's or transfer's task ending changes
    nothing for the channel: its agents still hold it (a transfer is marked failed)."""
    link = await store.get_interaction_task(conn, task_sid=task.sid)
    if link is None:
        return
    if link["transfer_sid"] is not None:
        await store.set_transfer_status(conn, sid=link["transfer_sid"], status="failed")
    if link["invite_sid"] is not None or link["transfer_sid"] is not None:
        return
    # The task row is locked already; waiting for the channel here, in the opposite order to a channel close
    # (channel, then its tasks), could deadlock with it. A busy channel is being acted on: leave it to that.
    channel = await store.lock_channel_unless_busy(conn, sid=link["channel_sid"])
    if channel is None or channel.status not in ("setup", "active"):
        return
    if await store.agents_of_channel(conn, channel_sid=channel.sid, statuses=["joined", "wrapup"]):
        return
    await close_channel(conn, channel, status="closed", routing_closed=True, base=base)


async def invite(conn: Connection, channel: InteractionChannel, *, routing: RoutingRequest, raw_routing: str,
                 base: str) -> Invite:
    """A new task for the same channel (a second agent, or a queue); on accept that agent joins too."""
    if channel.status in ("closed", "failed") or channel.media_channel_sid is None:
        raise invalid_parameter(f"Channel {channel.sid} is {channel.status}: nobody can be invited")
    target = await resolve_routing(conn, account_sid=channel.account_sid, routing=routing, default_channel="chat")
    if target.worker_sid is not None and any(
            agent.worker_sid == target.worker_sid
            for agent in await store.agents_of_channel(conn, channel_sid=channel.sid, statuses=["joined", "wrapup"])):
        raise invalid_parameter(f"Worker {target.worker_sid} is in the channel already")
    made = await store.insert_invite(conn, account_sid=channel.account_sid, channel=channel, routing=raw_routing)
    await new_channel_task(conn, target, channel, attributes=await _channel_attributes(
        conn, channel, routing.attributes, invite_sid=made.sid), routing=routing, accept=False, base=base,
        invite_sid=made.sid)
    return made


async def transfer(conn: Connection, channel: InteractionChannel, *, kind: str, from_participant: ChannelParticipant,
                   to: str, workflow_sid: str | None, base: str) -> Transfer:
    """To a worker (WK…) or a queue (WQ…): a new task; on its accept a cold transfer closes the first agent."""
    if channel.status in ("closed", "failed") or channel.media_channel_sid is None:
        raise invalid_parameter(f"Channel {channel.sid} is {channel.status}: nothing to transfer")
    if from_participant.type != "agent" or from_participant.task_sid is None or channel.workspace_sid is None:
        raise invalid_parameter("A transfer starts from an agent participant of the channel")
    current = await tasks.get_task(conn, workspace_sid=channel.workspace_sid, sid=from_participant.task_sid)
    assert current is not None
    to_worker = to.startswith("WK")
    if not (to_worker or to.startswith("WQ")):
        raise invalid_parameter("A transfer goes to a Worker (WK…) or a TaskQueue (WQ…)")
    routing = RoutingRequest(
        workspace_sid=channel.workspace_sid, workflow_sid=workflow_sid,
        queue_sid=current.task_queue_sid if to_worker else to, worker_sid=to if to_worker else None,
        task_channel=current.task_channel_sid,
        attributes={"transferTargetType": "worker" if to_worker else "queue", "transferTargetSid": to})
    target = await resolve_routing(conn, account_sid=channel.account_sid, routing=routing, default_channel="chat")
    if not to_worker:
        target = RoutingTarget(workspace=target.workspace, workflow=None, channel=target.channel, queue_sid=to,
                               worker_sid=None)
    made = await store.insert_transfer(conn, account_sid=channel.account_sid, channel=channel, type=kind,
                                       from_participant_sid=from_participant.sid, to_target=to)
    base_attributes = channel_attributes(attributes_of(current.attributes))
    base_attributes.update(routing.attributes)
    await new_channel_task(conn, target, channel, attributes=base_attributes, routing=routing, accept=False,
                           base=base, transfer_sid=made.sid)
    return made


async def end_transfer(conn: Connection, transfer: Transfer, *, status: str, base: str) -> Transfer:
    """The API marks a transfer `completed` or `failed`: it is over, so its task, if still waiting for an agent,
    is called off (else it would later pull an agent in and, cold, take the first one out)."""
    if transfer.status != "active":
        raise invalid_parameter(f"Transfer {transfer.sid} is {transfer.status} already")
    made = await store.task_of_transfer(conn, transfer_sid=transfer.sid)
    if made is not None:
        workspace = await workspaces.get_workspace_by_sid(conn, sid=made[0])
        task = await tasks.get_task(conn, workspace_sid=made[0], sid=made[1], for_update=True)
        if workspace is not None and task is not None and task.assignment_status in ("pending", "reserved"):
            await task_cases.cancel_task(conn, workspace, task, reason=f"Transfer {status}", base=base)
    return await store.set_transfer_status(conn, sid=transfer.sid, status=status)


async def _channel_attributes(conn: Connection, channel: InteractionChannel, extra: dict[str, Any], *,
                              invite_sid: str) -> dict[str, Any]:
    """An invite's task carries what the channel's first task said of the customer, plus its own attributes."""
    first = await store.tasks_of_channel(conn, channel_sid=channel.sid)
    known: dict[str, Any] = {}
    if first:
        task = await tasks.get_task(conn, workspace_sid=first[0][0], sid=first[0][1])
        if task is not None:
            known = attributes_of(task.attributes)
    assert channel.media_channel_sid is not None
    return task_attributes(
        {**channel_attributes(known), **extra},
        channel_type=channel.type, initiated_by=channel.initiated_by, conversation_sid=channel.media_channel_sid,
        interaction_sid=channel.interaction_sid, channel_sid=channel.sid,
        customer_address=known.get("customerAddress"), customer_name=known.get("customerName"), invite_sid=invite_sid)


async def channel_or_404(conn: Connection, *, account_sid: str, interaction_sid: str, sid: str,
                         for_update: bool = False) -> InteractionChannel:
    found = await store.get_channel(conn, account_sid=account_sid, interaction_sid=interaction_sid, sid=sid,
                                    for_update=for_update)
    if found is None:
        raise not_found(f"Interaction Channel {sid}")
    return found


_ROUTING_REFERENCES = {"task_sid": tasks.get_task, "worker_sid": workers.get_worker,
                       "reservation_sid": reservations.get_reservation}


async def _check_routing_references(conn: Connection, channel: InteractionChannel, routing: dict[str, Any]) -> None:
    """A participant's routing properties may name only a task, worker and reservation of the channel's workspace."""
    for key, fetch in _ROUTING_REFERENCES.items():
        sid = routing.get(key)
        if sid is None:
            continue
        if (not isinstance(sid, str) or channel.workspace_sid is None
                or await fetch(conn, workspace_sid=channel.workspace_sid, sid=sid) is None):
            raise invalid_parameter(f"RoutingProperties.{key} {sid!r} is not in the channel's workspace")


async def add_channel_participant(conn: Connection, channel: InteractionChannel, *, type: str, identity: str | None,
                                  media_properties: str, routing: dict[str, Any]) -> ChannelParticipant:
    """A supervisor, external or further agent added by the API; an identity joins the conversation as well."""
    if channel.status in ("closed", "failed"):
        raise invalid_parameter(f"Channel {channel.sid} is {channel.status}")
    await _check_routing_references(conn, channel, routing)
    added = await store.insert_participant(
        conn, account_sid=channel.account_sid, channel=channel, type=type, identity=identity,
        media_properties=media_properties, task_sid=routing.get("task_sid"), worker_sid=routing.get("worker_sid"),
        reservation_sid=routing.get("reservation_sid"))
    if type in ("agent", "supervisor") and identity and channel.media_channel_sid is not None:
        await command(conn, channel.account_sid, ADD_AGENT, AgentParticipant(
            conversation_sid=channel.media_channel_sid, identity=identity, interaction_sid=channel.interaction_sid,
            participant_sid=added.sid))
    return added
