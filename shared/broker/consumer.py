"""The consume wrapper: the one place that decides ack, redelivery and dead-lettering.

A handler gets a connection inside an open transaction and the parsed envelope. The wrapper
records the message as processed in that same transaction (a redelivery then changes nothing),
commits, and only then acks. An unparseable message is rejected straight to the dead letters;
a failing handler is nacked for redelivery until the queue's delivery limit parks it.

A `RawConsumer` is for queues whose messages may not parse (the dead letters): its handler gets
the undecoded body, the headers and the message id under the same transaction and ack discipline.

A `PreparedConsumer` has a step that must not run inside a transaction (asking another service and
waiting for the answer, e.g. a pre-event webhook): `prepare` runs first, outside any transaction,
and its result is handed to the handler inside the transaction. A message already processed is
acked before `prepare` runs, so a redelivery asks nothing twice. When the handler finds that what
`prepare` saw has changed meanwhile, it raises `PrepareAgain`, and both run again.

A runner stops gracefully in steps (shared/runtime.py): `cancel` takes no more messages, `settled` waits for
those it holds to be settled, `stop` closes the channel (whatever is still unsettled goes back to the queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from pydantic import BaseModel, ValidationError

from shared.broker.connection import Broker
from shared.broker.failures import PermanentFailure, PrepareAgain
from shared.broker.topology import DEAD, QueueSpec
from shared.contracts.envelope import Envelope, make_envelope
from shared.contracts.fabric import CONSUMER_FAILED, ConsumerFailed
from shared.outages import Outage, Stuck, is_infrastructure_failure

log = logging.getLogger(__name__)

Handler = Callable[[asyncpg.Connection, Envelope[Any]], Awaitable[None]]
# (connection, body, headers, AMQP message id); the body may be anything, even not JSON.
RawHandler = Callable[[asyncpg.Connection, bytes, dict[str, Any], str | None], Awaitable[None]]
# Names what a raw message is for idempotency: (body, headers, AMQP message id) -> key.
DedupeKey = Callable[[bytes, Mapping[str, Any], str | None], uuid.UUID]
# Messages with the same key are handled one at a time, in the order the broker delivered them.
SequenceKey = Callable[[Envelope[Any]], Hashable | None]
# Runs before the transaction; what it returns is handed to the PreparedHandler inside it.
Prepare = Callable[[Envelope[Any]], Awaitable[Any]]
PreparedHandler = Callable[[asyncpg.Connection, Envelope[Any], Any], Awaitable[None]]

# Races a fresh attempt resolves: it re-reads what the winner committed.
_TRANSIENT = (
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.UniqueViolationError,
)
_IN_PROCESS_ATTEMPTS = 3
_PREPARE_ROUNDS = 3
_SETTLING = 0.05


@dataclass(frozen=True)
class Consumer:
    queue: QueueSpec
    payload: type[BaseModel]
    handler: Handler
    name: str | None = None
    # Without it messages are handled concurrently (up to the prefetch), so commit order may differ
    # from delivery order; with it, messages sharing a key keep the broker's order.
    sequence_by: SequenceKey | None = None
    # At most this many messages in hand at once (the channel's prefetch). A handler that takes a second pool
    # connection while its transaction holds the first must stay well below the pool's size: as many such
    # handlers as the pool has connections would each wait for another, and the service would hang for good.
    concurrency: int | None = None

    @property
    def consumer_name(self) -> str:
        return self.name or self.queue.name


def dead_letter_dedupe_key(body: bytes, headers: Mapping[str, Any], message_id: str | None) -> uuid.UUID:
    """One key per dead-lettering: the message (its id, else its body) and RabbitMQ's `x-death` counts,
    so a redelivered dead letter is recognised while the same message dead-lettered again is not."""
    deaths = headers.get("x-death")
    counts = [
        f"{_text(death.get('queue'))}/{_text(death.get('reason'))}/{death.get('count')}"
        for death in (deaths if isinstance(deaths, list) else [])
        if isinstance(death, Mapping)
    ]
    identity = message_id or "sha256:" + hashlib.sha256(body).hexdigest()
    return uuid.uuid5(uuid.NAMESPACE_URL, "|".join([identity, *counts]))


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


async def _never_called(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
    raise AssertionError("a RawConsumer's messages go to raw_handler")


@dataclass(frozen=True, kw_only=True)
class RawConsumer(Consumer):
    """A consumer whose handler gets the body undecoded (for queues whose messages may not parse)."""

    payload: type[BaseModel] = BaseModel  # nothing is decoded
    handler: Handler = _never_called
    raw_handler: RawHandler
    dedupe_key: DedupeKey = dead_letter_dedupe_key


@dataclass(frozen=True, kw_only=True)
class PreparedConsumer(Consumer):
    """A consumer with a step before the transaction (see the module's docstring)."""

    handler: Handler = _never_called
    prepare: Prepare
    prepared_handler: PreparedHandler


async def _run_prepared(consumer: PreparedConsumer, envelope: Envelope[Any], prepared: Any,
                        conn: asyncpg.Connection) -> None:
    await consumer.prepared_handler(conn, envelope, prepared)


class _KeyedSequence:
    """Lets work with the same key run one at a time, in the order it asked for its turn."""

    def __init__(self) -> None:
        self._tails: dict[Hashable, asyncio.Future[None]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, key: Hashable | None) -> AsyncIterator[None]:
        if key is None:
            yield
            return
        # Registration happens before the first await, so turns follow the order of the calls.
        previous = self._tails.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = mine
        try:
            if previous is not None:
                await asyncio.shield(previous)
            yield
        finally:
            mine.set_result(None)
            if self._tails.get(key) is mine:
                del self._tails[key]


class ConsumerRunner:
    """Runs one consumer on its own channel, so its prefetch doesn't starve the others."""

    def __init__(self, consumer: Consumer, *, broker: Broker, pool: asyncpg.Pool, prefetch: int) -> None:
        self._consumer = consumer
        self._broker = broker
        self._pool = pool
        self._prefetch = min(prefetch, consumer.concurrency) if consumer.concurrency else prefetch
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._sequence = _KeyedSequence()
        self._outage = Outage(log, f"queue {consumer.queue.name}")
        self._stuck = Stuck(log, f"queue {consumer.queue.name}")
        self._stuck_messages: set[uuid.UUID] = set()
        self._in_hand = 0  # messages received and not yet settled
        self._all_settled = asyncio.Event()
        self._all_settled.set()

    async def start(self) -> None:
        channel = await self._broker.connection.channel()
        await channel.set_qos(prefetch_count=self._prefetch)
        self._queue = await self._broker.declare_queue(channel, self._consumer.queue)
        self._tag = await self._queue.consume(self._receive)

    async def cancel(self) -> None:
        """Take no more messages; those received are still handled and settled (`settled` waits for them)."""
        if self._queue is not None and self._tag is not None:
            tag, self._tag = self._tag, None
            await self._queue.cancel(tag)

    async def settled(self, timeout: float) -> bool:
        """Whether every message received was settled within `timeout` (after `cancel`, none comes any more)."""
        if timeout <= 0:
            return self._all_settled.is_set()
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self._all_settled.wait()
                    # Deliveries that came before the broker's cancel-ok are tasks already scheduled, not yet
                    # counted: let them start before believing the count.
                    await asyncio.sleep(_SETTLING)
                    if self._all_settled.is_set():
                        return True
        except TimeoutError:
            return False

    async def stop(self) -> None:
        """Close the channel: a message still unsettled goes back to the queue (a redelivery)."""
        await self.cancel()
        if self._queue is not None:
            queue, self._queue = self._queue, None
            await queue.channel.close()

    async def _receive(self, message: AbstractIncomingMessage) -> None:
        if message.redelivered:
            # What a crash or an abrupt stop costs, and what a graceful one never causes: worth a line each.
            log.info("message redelivered", extra={"queue": self._consumer.queue.name,
                                                   "message_id": message.message_id,
                                                   "delivery_count": message.headers.get("x-delivery-count")})
        self._in_hand += 1
        self._all_settled.clear()
        try:
            if isinstance(self._consumer, RawConsumer):
                await self._on_raw_message(message)
            else:
                await self._on_message(message)
        finally:
            self._in_hand -= 1
            if not self._in_hand:
                self._all_settled.set()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            envelope = Envelope[self._consumer.payload].model_validate_json(message.body)  # type: ignore[name-defined]
        except ValidationError as error:
            log.error("invalid message dead-lettered", extra={"queue": self._consumer.queue.name, "error": str(error)})
            await self._report_failure(message, f"invalid message: {error}")
            await message.reject(requeue=False)
            return
        key = self._consumer.sequence_by(envelope) if self._consumer.sequence_by is not None else None
        async with self._sequence.turn(key):
            if isinstance(self._consumer, PreparedConsumer):
                await self._settle(message, envelope.message_id, lambda: self._apply_prepared(envelope))
            else:
                await self._settle(message, envelope.message_id,
                                   lambda: self._apply(envelope.message_id, lambda conn: self._consumer.handler(conn, envelope)))

    async def _on_raw_message(self, message: AbstractIncomingMessage) -> None:
        consumer = self._consumer
        assert isinstance(consumer, RawConsumer)
        headers = dict(message.headers or {})
        key = consumer.dedupe_key(message.body, headers, message.message_id)
        await self._settle(
            message, key, lambda: self._apply(key, lambda conn: consumer.raw_handler(conn, message.body, headers,
                                                                                     message.message_id))
        )

    async def _settle(
        self, message: AbstractIncomingMessage, message_id: uuid.UUID, work: Callable[[], Awaitable[None]],
    ) -> None:
        """Apply, then ack; or park (permanent failure) or nack for redelivery (a handler's own error).

        A failure of the database or the broker is not the message's: it stays unacked (a requeue would count
        toward the delivery limit) and is tried again in place, backing off, until the infrastructure answers.
        Meanwhile the prefetch fills with such messages and the broker sends no more: the queue pauses.
        On a queue without a delivery limit, where nothing would ever park it, a message its handler fails on
        is kept and retried in place the same way (`Stuck`), while the rest of the queue flows past it."""
        try:
            while True:
                try:
                    await work()
                except Exception as error:
                    if is_infrastructure_failure(error):
                        self._outage.failed(error)
                        await self._outage.pause()
                    elif self._consumer.queue.dead_letters:
                        await self._fail(message, message_id, error)
                        return
                    else:
                        self._stuck_messages.add(message_id)
                        self._stuck.failed(error)
                        await self._stuck.pause()
                    if self._queue is None:
                        return  # stopped meanwhile: its channel is closed and the broker has the message back
                    continue
                self._outage.recovered()
                if message_id in self._stuck_messages and len(self._stuck_messages) == 1:
                    self._stuck.recovered()
                await message.ack()
                return
        finally:
            self._stuck_messages.discard(message_id)

    async def _fail(self, message: AbstractIncomingMessage, message_id: uuid.UUID, error: Exception) -> None:
        where = {"queue": self._consumer.queue.name, "message_id": str(message_id)}
        if isinstance(error, PermanentFailure):
            log.warning("message parked: %s", error, extra=where)
            await self._report_failure(message, str(error))
            await message.reject(requeue=False)
            return
        log.error("consumer failed; message will be redelivered until the delivery limit", exc_info=error, extra=where)
        await self._report_failure(message, f"{type(error).__name__}: {error}")
        await message.nack(requeue=True)

    async def _apply_prepared(self, envelope: Envelope[Any]) -> None:
        consumer = self._consumer
        assert isinstance(consumer, PreparedConsumer)
        for round_ in range(_PREPARE_ROUNDS):
            async with self._pool.acquire() as conn:
                if await conn.fetchval(
                    "SELECT true FROM processed_messages WHERE consumer = $1 AND message_id = $2",
                    consumer.consumer_name, envelope.message_id,
                ):
                    return  # a redelivery of what was done: nothing to prepare, nothing to apply
            prepared = await consumer.prepare(envelope)
            try:
                await self._apply(envelope.message_id, functools.partial(_run_prepared, consumer, envelope, prepared))
                return
            except PrepareAgain:
                if round_ == _PREPARE_ROUNDS - 1:
                    raise

    async def _apply(self, message_id: uuid.UUID, handle: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
        for attempt in range(_IN_PROCESS_ATTEMPTS):
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    first_time = await conn.fetchval(
                        "INSERT INTO processed_messages (consumer, message_id) VALUES ($1, $2) "
                        "ON CONFLICT DO NOTHING RETURNING true",
                        self._consumer.consumer_name,
                        message_id,
                    )
                    if first_time:
                        await handle(conn)
                return
            except _TRANSIENT:
                if attempt == _IN_PROCESS_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.01 * (attempt + 1))

    async def _report_failure(self, message: AbstractIncomingMessage, error: str) -> None:
        """Tell the dead-letter log why this message failed, so a parked message carries its reason."""
        if not self._consumer.queue.dead_letters:
            return  # never parked, so nothing to explain; reporting would feed the failure queue its own failures
        try:
            failed_id = uuid.UUID(message.message_id) if message.message_id else None
        except ValueError:
            failed_id = None
        count = message.headers.get("x-delivery-count", 0)
        report = ConsumerFailed(
            queue=self._consumer.queue.name,
            failed_message_id=failed_id,
            error=error[:2000],
            delivery_count=int(count) if isinstance(count, int) else 0,
        )
        envelope = make_envelope(CONSUMER_FAILED, report, account_sid="system")
        try:
            await self._broker.publish(
                DEAD, f"{CONSUMER_FAILED}.{self._consumer.queue.name}", envelope.to_bytes(),
                message_id=str(envelope.message_id),
            )
        except Exception:
            log.exception("could not report a consumer failure")
