"""Upgrades and setting changes: a queue declared otherwise (by an older Parley, or under another
PARLEY_DELIVERY_LIMIT) is migrated at start, every message it held handled once, and ends with today's arguments."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection
from aio_pika.exceptions import ChannelNotFoundEntity

from services.conversations.app import SERVICE as CONVERSATIONS
from shared.broker.connection import persistent_message
from shared.broker.migration import MIGRATING_SUFFIX, declared_arguments, migrate_queues
from shared.broker.topology import COMMANDS, CONVERSATIONS_INBOUND, EXCHANGES, INBOUND, QueueSpec
from shared.cli import inbound_message, publish_inbound_message
from shared.contracts.ingress import INBOUND_MESSAGE
from shared.settings import Settings
from tests.conftest import StartParley
from tests.conversations.test_inbound_threading import configure_address, conversations_of, messages_of
from tests.support.waiting import eventually

CUSTOMER = "+15551230077"
PARLEY_NUMBER = "+15550009977"
WAITING = 30  # messages left in the queue while no Parley runs
# A queue of the test's own, for the broker-only tests below; one active consumer, as a queue whose messages can
# only be consumed (basic.get is refused) is the harder one to move.
KITCHEN = QueueSpec("migration.kitchen", COMMANDS, ("kitchen.order", "kitchen.refund"),
                    arguments=(("x-single-active-consumer", True),))


@pytest.fixture
async def amqp(settings: Settings) -> AsyncIterator[AbstractConnection]:
    connection = await aio_pika.connect(settings.amqp_url)
    yield connection
    channel = await connection.channel()
    for name in (KITCHEN.name, KITCHEN.name + MIGRATING_SUFFIX):
        await channel.queue_delete(settings.broker_name(name))
    await connection.close()


async def declare_classic(channel: AbstractChannel, settings: Settings, spec: QueueSpec) -> None:
    """The queue as a Parley that declared plain classic queues would have left it."""
    await channel.queue_delete(settings.broker_name(spec.name))
    queue = await channel.declare_queue(settings.broker_name(spec.name), durable=True)
    for key in spec.bindings:
        await queue.bind(settings.broker_name(spec.exchange), routing_key=key)


async def declares_as_today(connection: AbstractConnection, settings: Settings, spec: QueueSpec) -> bool:
    """Whether the broker takes today's declaration (it refuses one whose arguments differ in anything)."""
    channel = await connection.channel()
    await channel.declare_queue(settings.broker_name(spec.name), durable=True,
                                arguments=declared_arguments(settings, spec))
    await channel.close()
    return True


async def exists(connection: AbstractConnection, name: str) -> bool:
    channel = await connection.channel()
    try:
        await channel.declare_queue(name, passive=True)
    except ChannelNotFoundEntity:
        return False
    await channel.close()
    return True


async def declare_exchanges(channel: AbstractChannel, settings: Settings) -> None:
    for name in EXCHANGES:
        await channel.declare_exchange(settings.broker_name(name), aio_pika.ExchangeType.TOPIC, durable=True)


async def publish_orders(channel: AbstractChannel, settings: Settings, count: int, *, first: int = 0) -> None:
    exchange = await channel.get_exchange(settings.broker_name(COMMANDS))
    for n in range(first, first + count):
        await exchange.publish(persistent_message(b"{}", message_id=f"order-{n}", headers={"n": n}),
                               routing_key="kitchen.order")


async def drain(channel: AbstractChannel, name: str, count: int) -> list[str | None]:
    """The ids of the `count` messages in the queue, then a moment more for any extra copy."""
    queue = await channel.declare_queue(name, passive=True)
    ids: list[str | None] = []
    async with queue.iterator() as messages:
        while True:
            try:
                message = await asyncio.wait_for(anext(messages), timeout=1 if len(ids) >= count else 20)
            except TimeoutError:
                return ids
            ids.append(message.message_id)
            await message.ack()


async def keep_classic(connection: AbstractConnection, settings: Settings) -> Settings:
    await declare_classic(await connection.channel(), settings, CONVERSATIONS_INBOUND)
    return settings


async def raise_delivery_limit(connection: AbstractConnection, settings: Settings) -> Settings:
    return settings.model_copy(update={"delivery_limit": settings.delivery_limit + 4})


Change = Callable[[AbstractConnection, Settings], Awaitable[Settings]]


@pytest.mark.parametrize("change", [keep_classic, raise_delivery_limit], ids=["classic queue", "another delivery limit"])
async def test_a_queue_declared_otherwise_is_migrated_at_start_and_every_message_is_handled_once_in_order(
    launch: StartParley, settings: Settings, amqp: AbstractConnection, change: Change
) -> None:
    first = await launch([CONVERSATIONS])
    async with first.client() as client:
        await configure_address(client, PARLEY_NUMBER)
    account = first.account
    await first.stop()

    # While no Parley runs, the queue is (or was already) declared the other way, and messages wait in it.
    upgraded = await change(amqp, settings)
    channel = await amqp.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(settings.broker_name(INBOUND))
    for n in range(WAITING):
        envelope = inbound_message(account_sid=account.sid, from_address=CUSTOMER, to_address=PARLEY_NUMBER,
                                   body=f"waiting {n}")
        await exchange.publish(persistent_message(envelope.to_bytes(), message_id=str(envelope.message_id), headers={}),
                               routing_key=INBOUND_MESSAGE)

    second = await launch([CONVERSATIONS], settings=upgraded)
    # The barrier: a message published after the start is stored after everything that waited.
    await publish_inbound_message(second.runtime.broker, account_sid=account.sid, from_address=CUSTOMER,
                                  to_address=PARLEY_NUMBER, body="after the start")
    async with second.client() as client:
        conversations = await eventually(lambda: conversations_of(client), until=lambda found: len(found) == 1)
        messages = await eventually(lambda: messages_of(client, conversations[0]["sid"]),
                                    until=lambda found: bool(found) and found[-1]["body"] == "after the start",
                                    timeout=60, what="the message published after the start")
    assert [message["body"] for message in messages] == [f"waiting {n}" for n in range(WAITING)] + ["after the start"]
    assert await declares_as_today(amqp, upgraded, CONVERSATIONS_INBOUND)
    assert not await exists(amqp, upgraded.broker_name(CONVERSATIONS_INBOUND.name) + MIGRATING_SUFFIX)


async def test_processes_starting_together_migrate_a_queue_once_keeping_each_message_once_in_order(
    settings: Settings, amqp: AbstractConnection
) -> None:
    channel = await amqp.channel(publisher_confirms=True)
    await declare_exchanges(channel, settings)
    await declare_classic(channel, settings, KITCHEN)
    await publish_orders(channel, settings, 200)

    await asyncio.gather(*(migrate_queues(settings, [KITCHEN]) for _ in range(3)))

    assert await declares_as_today(amqp, settings, KITCHEN)
    await publish_orders(channel, settings, 1, first=200)  # the new queue carries the bindings
    assert await drain(channel, settings.broker_name(KITCHEN.name), 201) == [f"order-{n}" for n in range(201)]


async def test_a_migration_interrupted_half_way_is_finished_by_the_next_start(
    settings: Settings, amqp: AbstractConnection
) -> None:
    """Stopped after the old queue was deleted: the messages wait in `<name>.migrating`, bound, while the real
    name was declared afresh (by any process starting meanwhile) and got newer ones."""
    channel = await amqp.channel(publisher_confirms=True)
    await declare_exchanges(channel, settings)
    interim = await channel.declare_queue(settings.broker_name(KITCHEN.name) + MIGRATING_SUFFIX, durable=True,
                                          arguments=declared_arguments(settings, KITCHEN))
    await interim.bind(settings.broker_name(COMMANDS), routing_key="kitchen.order")
    await publish_orders(channel, settings, 5)
    await channel.declare_queue(settings.broker_name(KITCHEN.name), durable=True,
                                arguments=declared_arguments(settings, KITCHEN))

    await migrate_queues(settings, [KITCHEN])

    assert not await exists(amqp, settings.broker_name(KITCHEN.name) + MIGRATING_SUFFIX)
    await publish_orders(channel, settings, 1, first=5)
    ids = await drain(channel, settings.broker_name(KITCHEN.name), 6)
    assert Counter(ids) == Counter(f"order-{n}" for n in range(6))
