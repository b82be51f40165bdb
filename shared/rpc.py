"""Request/reply over RabbitMQ: a caller that needs an answer now, and the service that gives it.

The caller publishes an envelope to an exchange (routing key = its type) with `reply_to` set to
RabbitMQ's direct reply-to pseudo-queue and a fresh correlation id, then waits for the one reply
with that id, up to a timeout. The request carries the same timeout as its expiration, so a
request nobody took in time is dropped by the broker instead of being answered for nobody.
Direct reply-to needs no reply queue per caller: the broker hands the reply straight to the
channel that asked, which is why the client consumes and publishes on one channel of its own.

The server consumes a request queue, runs the handler, and publishes the reply (an envelope too)
to the request's `reply_to` with its correlation id. A handler that fails, or a request that does
not parse, gets no reply; the caller's timeout decides what that means.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage, AbstractQueue
from pydantic import BaseModel, ValidationError

from shared.broker.connection import Broker
from shared.broker.topology import QueueSpec
from shared.contracts.envelope import Envelope, make_envelope
from shared.outages import Outage, is_infrastructure_failure

log = logging.getLogger(__name__)

DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"

R = TypeVar("R", bound=BaseModel)


class RpcTimeout(Exception):
    """No reply came within the timeout: the server is down, slow, or the request expired unanswered."""


class RpcUnroutable(Exception):
    """The broker had no queue for the request: no service declared one, so nobody could answer."""


class RpcClient:
    """One per service instance (built by its composition root); safe for concurrent calls."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._pending: dict[str, asyncio.Future[bytes]] = {}
        self._lock = asyncio.Lock()

    async def call(
        self, exchange: str, request: BaseModel, *, type_: str, account_sid: str, reply: type[R], timeout: float,
        correlation_id: str | None = None,
    ) -> R:
        """Publish `request` as a `type_` envelope and wait for the reply; raises RpcTimeout or RpcUnroutable."""
        envelope = make_envelope(type_, request, account_sid=account_sid, correlation_id=correlation_id)
        target = await self._exchange(exchange)
        call_id = uuid.uuid4().hex
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = answer
        try:
            message = aio_pika.Message(
                envelope.to_bytes(), message_id=str(envelope.message_id), correlation_id=call_id,
                reply_to=DIRECT_REPLY_TO, content_type="application/json",
                # Worthless once the caller stopped waiting: the broker drops it unanswered.
                expiration=max(timeout, 0.001), delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
            )
            try:
                await target.publish(message, routing_key=type_, mandatory=True)
            except (aio_pika.exceptions.DeliveryError, aio_pika.exceptions.PublishError) as error:
                raise RpcUnroutable(f"{exchange} {type_}: {error}") from error
            try:
                body = await asyncio.wait_for(answer, timeout)
            except TimeoutError:
                raise RpcTimeout(f"no reply to {type_} within {timeout:g}s") from None
        finally:
            self._pending.pop(call_id, None)
        return Envelope[reply].model_validate_json(body).payload  # type: ignore[valid-type]

    async def _exchange(self, name: str) -> AbstractExchange:
        async with self._lock:
            if self._channel is None or self._channel.is_closed:
                self._exchanges.clear()
                channel = await self._broker.connection.channel(publisher_confirms=True, on_return_raises=True)
                # Direct reply-to: consume the pseudo-queue (no-ack) before publishing on this channel.
                replies = await channel.get_queue(DIRECT_REPLY_TO)
                await replies.consume(self._on_reply, no_ack=True)
                self._channel = channel
            if name not in self._exchanges:
                self._exchanges[name] = await self._channel.get_exchange(self._broker.settings.broker_name(name),
                                                                         ensure=False)
            return self._exchanges[name]

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        waiting = self._pending.get(message.correlation_id or "")
        if waiting is not None and not waiting.done():
            waiting.set_result(message.body)
        # Otherwise its caller gave up already: a late answer is dropped.

    async def close(self) -> None:
        for waiting in self._pending.values():
            if not waiting.done():
                waiting.set_exception(RpcTimeout("the RPC client is closing"))
        if self._channel is not None:
            with contextlib.suppress(Exception):
                await self._channel.close()
            self._channel = None


RequestHandler = Callable[[Envelope[Any]], Awaitable[BaseModel]]


class RpcServer:
    """Answers the requests of one queue; `run` is a service loop (consumes until cancelled)."""

    def __init__(self, broker: Broker, *, queue: QueueSpec, payload: type[BaseModel], reply_type: str,
                 handler: RequestHandler, prefetch: int) -> None:
        self._broker = broker
        self._queue_spec = queue
        self._payload = payload
        self._reply_type = reply_type
        self._handler = handler
        self._prefetch = prefetch
        self._channel: AbstractChannel | None = None
        self._outage = Outage(log, f"queue {queue.name}")

    async def run(self) -> None:
        channel = await self._broker.connection.channel()
        self._channel = channel
        try:
            await channel.set_qos(prefetch_count=self._prefetch)
            queue: AbstractQueue = await self._broker.declare_queue(channel, self._queue_spec)
            tag = await queue.consume(self._on_request)
            try:
                await asyncio.Event().wait()  # until the runtime cancels this loop
            finally:
                with contextlib.suppress(Exception):
                    await queue.cancel(tag)
        finally:
            with contextlib.suppress(Exception):
                await channel.close()
            self._channel = None

    async def _on_request(self, message: AbstractIncomingMessage) -> None:
        try:
            envelope = Envelope[self._payload].model_validate_json(message.body)  # type: ignore[name-defined]
        except ValidationError as error:
            log.error("invalid RPC request dropped", extra={"queue": self._queue_spec.name, "error": str(error)})
            await message.reject(requeue=False)
            return
        try:
            answer = await self._handler(envelope)
        except Exception as error:
            # No reply: the caller's timeout applies. Requeueing would answer after it stopped waiting.
            if is_infrastructure_failure(error):
                self._outage.failed(error)  # one line while it lasts, not a traceback per request
            else:
                log.exception("RPC handler failed; no reply sent", extra={"queue": self._queue_spec.name,
                                                                          "message_id": str(envelope.message_id)})
            await message.reject(requeue=False)
            return
        self._outage.recovered()
        if message.reply_to and self._channel is not None:
            reply = make_envelope(self._reply_type, answer, account_sid=envelope.account_sid,
                                  correlation_id=envelope.correlation_id)
            try:
                await self._channel.default_exchange.publish(
                    aio_pika.Message(reply.to_bytes(), correlation_id=message.correlation_id,
                                     message_id=str(reply.message_id), content_type="application/json"),
                    routing_key=message.reply_to,
                )
            except Exception:
                log.exception("RPC reply could not be published", extra={"queue": self._queue_spec.name})
        await message.ack()
