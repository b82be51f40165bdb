"""The consume wrapper: the one place that decides ack, redelivery and dead-lettering.

A handler gets a connection inside an open transaction and the parsed envelope. The wrapper
records the message as processed in that same transaction (a redelivery then changes nothing),
commits, and only then acks. An unparseable message is rejected straight to the dead letters;
a failing handler is nacked for redelivery until the queue's delivery limit parks it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from pydantic import BaseModel, ValidationError

from shared.broker.connection import Broker
from shared.broker.failures import PermanentFailure
from shared.broker.topology import DEAD, QueueSpec
from shared.contracts.envelope import Envelope, make_envelope
from shared.contracts.fabric import CONSUMER_FAILED, ConsumerFailed

log = logging.getLogger(__name__)

Handler = Callable[[asyncpg.Connection, Envelope[Any]], Awaitable[None]]

# Races a fresh attempt resolves: it re-reads what the winner committed.
_TRANSIENT = (
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.UniqueViolationError,
)
_IN_PROCESS_ATTEMPTS = 3


@dataclass(frozen=True)
class Consumer:
    queue: QueueSpec
    payload: type[BaseModel]
    handler: Handler
    name: str | None = None

    @property
    def consumer_name(self) -> str:
        return self.name or self.queue.name


class ConsumerRunner:
    """Runs one consumer on its own channel, so its prefetch doesn't starve the others."""

    def __init__(self, consumer: Consumer, *, broker: Broker, pool: asyncpg.Pool, prefetch: int) -> None:
        self._consumer = consumer
        self._broker = broker
        self._pool = pool
        self._prefetch = prefetch
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None

    async def start(self) -> None:
        channel = await self._broker.connection.channel()
        await channel.set_qos(prefetch_count=self._prefetch)
        self._queue = await self._broker.declare_queue(channel, self._consumer.queue)
        self._tag = await self._queue.consume(self._on_message)

    async def stop(self) -> None:
        if self._queue is not None and self._tag is not None:
            await self._queue.cancel(self._tag)
            await self._queue.channel.close()
            self._queue = None

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            envelope = Envelope[self._consumer.payload].model_validate_json(message.body)  # type: ignore[name-defined]
        except ValidationError as error:
            log.error("invalid message dead-lettered", extra={"queue": self._consumer.queue.name, "error": str(error)})
            await self._report_failure(message, f"invalid message: {error}")
            await message.reject(requeue=False)
            return
        try:
            await self._apply(envelope)
        except PermanentFailure as error:
            log.warning("message parked: %s", error, extra={"queue": self._consumer.queue.name,
                                                           "message_id": str(envelope.message_id)})
            await self._report_failure(message, str(error))
            await message.reject(requeue=False)
            return
        except Exception as error:
            log.exception(
                "consumer failed; message will be redelivered until the delivery limit",
                extra={"queue": self._consumer.queue.name, "message_id": str(envelope.message_id)},
            )
            await self._report_failure(message, f"{type(error).__name__}: {error}")
            await message.nack(requeue=True)
            return
        await message.ack()

    async def _apply(self, envelope: Envelope[Any]) -> None:
        for attempt in range(_IN_PROCESS_ATTEMPTS):
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    first_time = await conn.fetchval(
                        "INSERT INTO processed_messages (consumer, message_id) VALUES ($1, $2) "
                        "ON CONFLICT DO NOTHING RETURNING true",
                        self._consumer.consumer_name,
                        envelope.message_id,
                    )
                    if first_time:
                        await self._consumer.handler(conn, envelope)
                return
            except _TRANSIENT:
                if attempt == _IN_PROCESS_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.01 * (attempt + 1))

    async def _report_failure(self, message: AbstractIncomingMessage, error: str) -> None:
        """Tell the dead-letter log why this message failed, so a parked message carries its reason."""
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
