"""A customer writing in a Flex channel nobody holds any more gets a new task, routed as the channel's last one.

Flex leaves such a conversation orphaned: its agents completed their tasks and left, the conversation stays
active with the customer alone, and her next message reaches nobody. Parley opens a task for the channel when
all of these hold: the channel is `active`, none of its tasks is open (pending, reserved, assigned, wrapping),
no agent is on it (joined or wrapping up), the message is the customer's (not an agent's nor the system's or
the API's, which have no participant), and no flow of the conversation takes the message (one waiting for the
customer's answer). Conversations never handed to Flex have no channel and are left alone.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from services.router.domain.interactions import channel_attributes
from services.router.domain.models import Task, attributes_of
from services.router.flows import store as flow_store
from services.router.handlers.interactions import new_channel_task, resolve_routing
from services.router.store import interactions as store
from services.router.store import tasks
from services.router.store.base import Connection
from shared.broker.consumer import Consumer
from shared.broker.failures import PermanentFailure
from shared.broker.topology import ROUTER_CUSTOMER_MESSAGES
from shared.contracts.conversations import ResourceEvent
from shared.contracts.envelope import Envelope
from shared.errors import TwilioError
from shared.runtime import ServiceContext

log = logging.getLogger(__name__)


def customer_messages_consumer(context: ServiceContext) -> Consumer:
    base = context.settings.external_base_url()

    async def handle(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
        await customer_wrote(conn, account_sid=envelope.account_sid, message=envelope.payload.resource, base=base)

    return Consumer(queue=ROUTER_CUSTOMER_MESSAGES, payload=ResourceEvent, handler=handle,
                    sequence_by=lambda envelope: envelope.payload.resource.get("conversation_sid"))


async def customer_wrote(conn: Connection, *, account_sid: str, message: dict[str, Any], base: str) -> Task | None:
    """The task opened for the message's channel, or None when the message leaves the channel as it is."""
    conversation_sid, participant_sid = message.get("conversation_sid"), message.get("participant_sid")
    author, message_sid = message.get("author"), message.get("sid")
    if not conversation_sid or not participant_sid or not message_sid:
        return None  # the system's and the API's own messages
    found = await store.open_channel_of_conversation(conn, account_sid=account_sid, conversation_sid=conversation_sid)
    if found is None or found.status != "active":
        return None  # never handed to Flex (or parked: its business unparks it)
    # Locked: a second message right behind this one, on another router, waits and then sees the task.
    channel = await store.get_channel(conn, account_sid=account_sid, sid=found.sid, for_update=True)
    if channel is None or channel.status != "active":
        return None
    if await store.has_open_task(conn, channel_sid=channel.sid) \
            or await store.agents_of_channel(conn, channel_sid=channel.sid, statuses=["joined", "wrapup"]):
        return None  # someone has it, or will
    if author and await store.is_staff_identity(conn, channel_sid=channel.sid, identity=author):
        return None  # an agent writing into the channel they left does not call another agent
    if await flow_store.flow_has_message(conn, conversation_sid=conversation_sid, message_sid=message_sid):
        return None  # the flow's answer, not a call for an agent
    routing = await store.get_channel_routing(conn, sid=channel.sid)
    made = await store.tasks_of_channel(conn, channel_sid=channel.sid)
    last = await tasks.get_task(conn, workspace_sid=made[-1][0], sid=made[-1][1]) if made else None
    if routing is None or last is None:
        log.info("a channel from before routings were kept is not reopened", extra={"channel_sid": channel.sid})
        return None
    try:
        target = await resolve_routing(conn, account_sid=account_sid, routing=routing, default_channel="chat",
                                       default_workflow=False)
    except TwilioError as error:  # its workflow, queue or worker is gone: parked, with the reason, for someone to see
        raise PermanentFailure(f"Channel {channel.sid} cannot be reopened: {error.message}") from error
    task = await new_channel_task(conn, target, channel, attributes=channel_attributes(attributes_of(last.attributes)),
                                  routing=routing, accept=False, base=base)
    log.info("customer wrote in a channel nobody held: new task", extra={
        "channel_sid": channel.sid, "conversation_sid": conversation_sid, "task_sid": task.sid,
        "message_sid": message_sid})
    return task
