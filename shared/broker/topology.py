"""The whole fabric as data: exchanges, work queues and their bindings.

Every service declares all of it at start, so a message published before its consumer ever
ran still has a queue to wait in. Names here are logical; `Settings.broker_name` prefixes them.
"""

from __future__ import annotations

from dataclasses import dataclass

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


CONVERSATIONS_INBOUND = QueueSpec("conversations.inbound", INBOUND, ("inbound.message",))
CONVERSATIONS_RECEIPTS = QueueSpec("conversations.receipts", INBOUND, ("channel.receipt",))
INGRESS_SENDS = QueueSpec("ingress.sends", COMMANDS, ("channel.send",))
WEBHOOKS_DELIVERIES = QueueSpec("webhooks.deliveries", COMMANDS, ("webhook.deliver",))
WEBHOOKS_DEAD_LETTERS = QueueSpec("webhooks.dead_letters", DEAD, ("dead.#",), dead_letters=False)
WEBHOOKS_FAILURES = QueueSpec("webhooks.failures", DEAD, ("failure.#",), dead_letters=False)

QUEUES = (
    CONVERSATIONS_INBOUND, CONVERSATIONS_RECEIPTS, INGRESS_SENDS,
    WEBHOOKS_DELIVERIES, WEBHOOKS_DEAD_LETTERS, WEBHOOKS_FAILURES,
)


def queue_arguments(spec: QueueSpec, *, dead_exchange: str, delivery_limit: int, queue_name: str) -> dict[str, object]:
    arguments: dict[str, object] = {"x-queue-type": "quorum"}
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
    return arguments
