"""The whole fabric as data: exchanges, work queues and their bindings.

Every service declares all of it at start, so a message published before its consumer ever
ran still has a queue to wait in. Names here are logical; `Settings.broker_name` prefixes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aio_pika.abc import FieldValue

INBOUND = "parley.inbound"
EVENTS = "parley.events"
COMMANDS = "parley.commands"
DEAD = "parley.dead"

EXCHANGES = (INBOUND, EVENTS, COMMANDS, DEAD)
# Work that must reach a queue: publishing it with no route raises instead of losing it.
# Events are broadcasts; having no subscriber (yet) is fine.
MUST_ROUTE = frozenset({INBOUND, COMMANDS, DEAD})


@dataclass(frozen=True)
class QueueSpec:
    name: str
    exchange: str
    bindings: tuple[str, ...]
    # Work queues park poison messages in parley.dead; the queues that collect dead letters don't.
    dead_letters: bool = True
    # Work queues are quorum queues (replicated, delivery limit); a request queue whose messages are
    # worthless after a few seconds is a classic one (see PRE_EVENT_REQUESTS).
    queue_type: str = "quorum"
    # Further x-arguments, e.g. ("x-single-active-consumer", True).
    arguments: tuple[tuple[str, FieldValue], ...] = ()


CONVERSATIONS_INBOUND = QueueSpec("conversations.inbound", INBOUND, ("inbound.message",))
CONVERSATIONS_RECEIPTS = QueueSpec("conversations.receipts", INBOUND, ("channel.receipt",))
INGRESS_SENDS = QueueSpec("ingress.sends", COMMANDS, ("channel.send",))
INGRESS_STATUSES = QueueSpec("ingress.statuses", INBOUND, ("channel.status",))
# Conversation events ingress logs (for realtime resume) and re-announces as `realtime.event` for its replicas,
# and conversations closing (a closed one's guests get no fresh token);
# one active consumer, so each conversation's events are logged and re-announced in the order published.
INGRESS_REALTIME = QueueSpec("ingress.realtime", EVENTS, (
    "message.added", "message.updated", "message.removed", "participant.added", "participant.removed",
    "conversation.removed", "conversation.state_updated", "delivery.updated",
), arguments=(("x-single-active-consumer", True),))
# Web-chat guests starting a chat: ingress asks, conversations creates it and answers with `webchat.started`.
CONVERSATIONS_WEBCHATS = QueueSpec("conversations.webchats", COMMANDS, ("webchat.start",))
# One active consumer at a time: commands are stored in the order they were published, whichever
# instance is active; storing is cheap, and the dispatch is shared by every instance through the database.
WEBHOOKS_DELIVERIES = QueueSpec("webhooks.deliveries", COMMANDS, ("webhook.deliver",),
                                arguments=(("x-single-active-consumer", True),))
# Pre-event webhook requests (RPC, answered on direct reply-to). A classic queue: a request is worth
# nothing once its caller's timeout has passed (it expires in the queue), losing one to a broker crash
# means the caller times out and proceeds, as it would for a receiver that never answers; so
# replication and fsync (a quorum queue) would only add latency to a path a customer's message waits on.
# No dead letters: an expired or failed request is not poison to park.
PRE_EVENT_REQUESTS = QueueSpec("webhooks.pre_events", COMMANDS, ("webhook.pre_event",), dead_letters=False,
                               queue_type="classic")
WEBHOOKS_DEAD_LETTERS = QueueSpec("webhooks.dead_letters", DEAD, ("dead.#",), dead_letters=False)
WEBHOOKS_FAILURES = QueueSpec("webhooks.failures", DEAD, ("failure.#",), dead_letters=False)

# Later sections add their queues to this tuple, each next to the specs it declares.
QUEUES: tuple[QueueSpec, ...] = (
    CONVERSATIONS_INBOUND, CONVERSATIONS_RECEIPTS, CONVERSATIONS_WEBCHATS, INGRESS_SENDS, INGRESS_STATUSES,
    INGRESS_REALTIME, WEBHOOKS_DELIVERIES, WEBHOOKS_DEAD_LETTERS, WEBHOOKS_FAILURES, PRE_EVENT_REQUESTS,
)


def queue_arguments(spec: QueueSpec, *, dead_exchange: str, delivery_limit: int, queue_name: str) -> dict[str, FieldValue]:
    arguments: dict[str, FieldValue] = {"x-queue-type": spec.queue_type}
    if spec.dead_letters:
        arguments.update(
            {
                "x-dead-letter-exchange": dead_exchange,
                "x-dead-letter-routing-key": f"dead.{queue_name}",
                # RabbitMQ's default drops dead letters when the target is unavailable; this keeps them.
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
                "x-delivery-limit": delivery_limit,
            }
        )
    arguments.update(dict(spec.arguments))
    return arguments


# Flex Interactions (router → conversations). Preparing the conversation is a request the router waits on
# (RPC, like PRE_EVENT_REQUESTS: worthless once the caller gave up, so classic and without dead letters);
# adding, removing agents and closing are commands through the outbox, kept in order per conversation.
CONVERSATIONS_FLEX_REQUESTS = QueueSpec("conversations.flex_requests", COMMANDS, ("flex.conversation.prepare",),
                                        dead_letters=False, queue_type="classic")
CONVERSATIONS_FLEX_COMMANDS = QueueSpec("conversations.flex_commands", COMMANDS, (
    "flex.agent.add", "flex.agent.remove", "flex.conversation.close",
))
# The conversations service's own `message.added`: an agent's message goes out to SMS/WhatsApp participants.
CONVERSATIONS_OUTBOUND_SENDS = QueueSpec("conversations.outbound_sends", EVENTS, ("message.added",))
QUEUES += (CONVERSATIONS_FLEX_REQUESTS, CONVERSATIONS_FLEX_COMMANDS, CONVERSATIONS_OUTBOUND_SENDS)
# Flex Flows: the router tells conversations which addresses a Flex Flow answers (a request it waits on, so
# an inbound message right after the API call already finds the flow).
CONVERSATIONS_FLEX_FLOW_ADDRESSES = QueueSpec("conversations.flex_flow_addresses", COMMANDS, ("flex.flow.addresses",),
                                              dead_letters=False, queue_type="classic")
QUEUES += (CONVERSATIONS_FLEX_FLOW_ADDRESSES,)

# Flows (Studio-like): the conversations service sees its own `message.added` for studio-type addresses and
# tells the router (`flow.message`); the router's send-message states come back as `flow.send_message`.
CONVERSATIONS_FLOW_TRIGGERS = QueueSpec("conversations.flow_triggers", EVENTS, ("message.added",))
CONVERSATIONS_FLOW_COMMANDS = QueueSpec("conversations.flow_commands", COMMANDS, ("flow.send_message",))
ROUTER_FLOW_MESSAGES = QueueSpec("router.flow_messages", COMMANDS, ("flow.message",))
QUEUES += (CONVERSATIONS_FLOW_TRIGGERS, CONVERSATIONS_FLOW_COMMANDS, ROUTER_FLOW_MESSAGES)

# Realtime clients' read horizons (published by ingress): conversations stores them on the participant.
CONVERSATIONS_READ_HORIZONS = QueueSpec("conversations.read_horizons", EVENTS, ("realtime.read_horizon",))
QUEUES += (CONVERSATIONS_READ_HORIZONS,)

# A reservation's AssignmentCallbackUrl: the router asks it (pre-event RPC) and acts on its instruction.
ROUTER_ASSIGNMENT_CALLBACKS = QueueSpec("router.assignment_callbacks", COMMANDS, ("router.assignment.callback",))
QUEUES += (ROUTER_ASSIGNMENT_CALLBACKS,)
# Every new message (conversations' `message.added`): the router reopens a Flex channel nobody holds any more when
# its customer writes. Per conversation in order, so two messages in a row make one task.
ROUTER_CUSTOMER_MESSAGES = QueueSpec("router.customer_messages", EVENTS, ("message.added",))
QUEUES += (ROUTER_CUSTOMER_MESSAGES,)

# Reference checks (RPC, like PRE_EVENT_REQUESTS: worthless once the caller gave up): is a SID another service
# stores one of the account's? Each owner answers for its own resources (shared/contracts/references.py).
ROUTER_REFERENCES = QueueSpec("router.references", COMMANDS, ("router.references.check",),
                              dead_letters=False, queue_type="classic")
CONVERSATIONS_REFERENCES = QueueSpec("conversations.references", COMMANDS, ("conversations.references.check",),
                                     dead_letters=False, queue_type="classic")
QUEUES += (ROUTER_REFERENCES, CONVERSATIONS_REFERENCES)
