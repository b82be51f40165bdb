"""Queues declared by an older Parley, or under another setting, moved into today's declaration with their messages.

RabbitMQ refuses to re-declare a queue with other arguments (PRECONDITION_FAILED), and it checks every argument
Parley sets (queue type, dead-lettering, overflow, delivery limit, single active consumer). So a queue whose
declaration is refused is one to migrate, and nothing else is. Policies would make some arguments mutable
(`delivery-limit`, dead-lettering), but not the queue type, and setting them needs the management API or
`rabbitmqctl`, which Parley (speaking AMQP alone) has not; one mechanism for every argument is simpler.

A migration moves the queue twice, so it ends under its real name (what operators, the dead-letter log and the
replay know it by) with today's arguments: into `<name>.migrating`, then back. Each move (`_relocate`):

1. declares the target with today's arguments, unbound, and moves the source's messages into it while the
   source is still bound (new messages keep landing behind the old ones, so the order is kept);
2. binds the target, then unbinds the source (in this order, so no message in between is unroutable: one
   published between the two lands in both, and consumers drop the second copy by its `message_id`);
3. moves what is left, waits for the source to have no consumer (a process of the older Parley may still hold
   unacked messages of it), and deletes it once it is empty and unused.

A message is acked in the source only after the broker confirmed it in the target: a crash moves it at worst
twice (the consumers are idempotent), never loses it. Moved messages start their delivery count afresh.

One process migrates at a time, holding an exclusive queue (the broker itself is the lock: it is released when
the process's connection dies, and it is scoped like the queues, by the broker prefix). Others wait for it,
then look again: a queue another process migrated declares fine. A migration interrupted half-way leaves
`<name>.migrating` behind, which marks the queue as one to migrate too, so the next start finishes the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, FieldValue
from aio_pika.exceptions import ChannelNotFoundEntity, ChannelPreconditionFailed
from aiormq.exceptions import ChannelLockedResource

from shared.broker.topology import DEAD, QueueSpec, queue_arguments
from shared.settings import Settings

log = logging.getLogger(__name__)

MIGRATING_SUFFIX = ".migrating"
LOCK_QUEUE = "parley.fabric.migration_lock"
_WAIT_SECONDS = 0.5
_SAY_EVERY_SECONDS = 10.0
_PREFETCH = 100
# A source that gave nothing for this long has been moved (what may arrive later is looked for again).
_IDLE_SECONDS = 0.2
# Set by the broker on delivery: a moved message starts its delivery count afresh.
_BROKER_HEADERS = frozenset({"x-delivery-count"})


def declared_arguments(settings: Settings, spec: QueueSpec) -> dict[str, FieldValue]:
    """The arguments `spec` is declared with under `settings` (the one place they are computed)."""
    return queue_arguments(spec, dead_exchange=settings.broker_name(DEAD), delivery_limit=settings.delivery_limit,
                           queue_name=spec.name)


async def migrate_queues(settings: Settings, queues: Iterable[QueueSpec]) -> None:
    """Bring every queue of `queues` to its current declaration, keeping its messages (see the module's docstring).
    The exchanges must exist. Costs a look per queue when there is nothing to do."""
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        stale = [spec for spec in queues if await _needs_migration(connection, settings, spec)]
        if not stale:
            return
        async with _migration_lock(connection, settings):
            for spec in stale:
                if await _needs_migration(connection, settings, spec):  # unless another process did it meanwhile
                    await _migrate(connection, settings, spec)
    finally:
        await connection.close()


async def _needs_migration(connection: AbstractConnection, settings: Settings, spec: QueueSpec) -> bool:
    name = settings.broker_name(spec.name)
    return await _exists(connection, name + MIGRATING_SUFFIX) or not await _declares(connection, name, settings, spec)


async def _migrate(connection: AbstractConnection, settings: Settings, spec: QueueSpec) -> None:
    name = settings.broker_name(spec.name)
    interim = name + MIGRATING_SUFFIX
    log.warning("queue %s was declared with other arguments (an older Parley or another setting): migrating it",
                name, extra={"queue": name, "arguments": declared_arguments(settings, spec)})
    if not await _declares(connection, name, settings, spec):
        await _relocate(connection, settings, spec, source=name, target=interim)
    kept = await _relocate(connection, settings, spec, source=interim, target=name)
    log.warning("queue %s migrated, %d messages kept", name, kept, extra={"queue": name})


async def _relocate(connection: AbstractConnection, settings: Settings, spec: QueueSpec, *, source: str,
                    target: str) -> int:
    """Move queue `source`, its messages and its bindings, into a new queue `target` declared as `spec` is."""
    channel = await connection.channel()
    try:
        exchange = await channel.get_exchange(settings.broker_name(spec.exchange), ensure=False)
        target_queue = await channel.declare_queue(target, durable=True, arguments=declared_arguments(settings, spec))
        source_queue = await channel.declare_queue(source, passive=True)
        # What waited before the start, while new messages still land behind it (under load it is never empty).
        moved = await _move(connection, source, target, limit=source_queue.declaration_result.message_count)
        for key in spec.bindings:
            await target_queue.bind(exchange, routing_key=key)
        for key in spec.bindings:
            await source_queue.unbind(exchange, routing_key=key)
        said = time.monotonic()
        while True:
            moved += await _move(connection, source, target)
            state = (await channel.declare_queue(source, passive=True)).declaration_result
            if state.message_count == 0 and state.consumer_count == 0:
                await channel.queue_delete(source)
                return moved
            if state.consumer_count and time.monotonic() - said >= _SAY_EVERY_SECONDS:
                said = time.monotonic()
                log.warning("queue %s still has %d consumers (processes of an older Parley?): waiting for them to "
                            "stop before deleting it", source, state.consumer_count, extra={"queue": source})
            await asyncio.sleep(_WAIT_SECONDS)
    finally:
        await channel.close()


async def _move(connection: AbstractConnection, source: str, target: str, *, limit: int | None = None) -> int:
    """Move messages of queue `source` to queue `target` (at most `limit`) until none comes for a moment; each is
    acked once the broker confirmed its copy. A consumer, as basic.get is refused by single-active-consumer
    queues; its channel is closed at the end, so nothing stays unacked with it unseen by the broker's counts."""
    if limit == 0:
        return 0
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    moved = 0
    try:
        await channel.set_qos(prefetch_count=_PREFETCH if limit is None else min(limit, _PREFETCH))
        queue = await channel.declare_queue(source, passive=True)
        with contextlib.suppress(TimeoutError):
            async for message in queue.iterator(timeout=_IDLE_SECONDS):
                await channel.default_exchange.publish(_copy(message), routing_key=target, mandatory=True)
                await message.ack()
                moved += 1
                if moved == limit:
                    break
    finally:
        await channel.close()
    return moved


def _copy(message: AbstractIncomingMessage) -> aio_pika.Message:
    headers = {key: value for key, value in (message.headers or {}).items() if key not in _BROKER_HEADERS}
    return aio_pika.Message(
        message.body, headers=headers, content_type=message.content_type, content_encoding=message.content_encoding,
        delivery_mode=message.delivery_mode, priority=message.priority, correlation_id=message.correlation_id,
        reply_to=message.reply_to, expiration=message.expiration, message_id=message.message_id,
        timestamp=message.timestamp, type=message.type, app_id=message.app_id,
    )


@contextlib.asynccontextmanager
async def _migration_lock(connection: AbstractConnection, settings: Settings) -> AsyncIterator[None]:
    """Held while an exclusive queue of this connection exists; the broker drops it with the connection."""
    name = settings.broker_name(LOCK_QUEUE)
    said = time.monotonic()
    while not await _on_own_channel(connection, lambda channel: channel.declare_queue(name, exclusive=True),
                                    refused=ChannelLockedResource):
        if time.monotonic() - said >= _SAY_EVERY_SECONDS:
            said = time.monotonic()
            log.warning("another process is migrating queues; waiting for it", extra={"lock": name})
        await asyncio.sleep(_WAIT_SECONDS)
    try:
        yield
    finally:
        await _on_own_channel(connection, lambda channel: channel.queue_delete(name), refused=ChannelNotFoundEntity)


async def _exists(connection: AbstractConnection, name: str) -> bool:
    return await _on_own_channel(connection, lambda channel: channel.declare_queue(name, passive=True),
                                 refused=ChannelNotFoundEntity)


async def _declares(connection: AbstractConnection, name: str, settings: Settings, spec: QueueSpec) -> bool:
    """Whether `name` is (or now is, if it was missing) declared as `spec` is; False when the broker refused."""
    return await _on_own_channel(
        connection,
        lambda channel: channel.declare_queue(name, durable=True, arguments=declared_arguments(settings, spec)),
        refused=ChannelPreconditionFailed,
    )


async def _on_own_channel(connection: AbstractConnection, operation: Callable[[AbstractChannel], Awaitable[object]],
                          *, refused: type[Exception]) -> bool:
    """Run `operation` on a channel of its own, as the broker closes a channel that asked for what it refused."""
    channel = await connection.channel()
    try:
        await operation(channel)
    except refused:
        return False
    await channel.close()
    return True
