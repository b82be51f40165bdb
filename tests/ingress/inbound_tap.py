"""A temporary exclusive queue on one of the test's exchanges (inbound by default): sees what ingress publishes."""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, AbstractQueue

from tests.support.waiting import eventually


class InboundTap:
    def __init__(self, amqp_url: str, exchange: str, binding: str = "inbound.#") -> None:
        self._amqp_url = amqp_url
        self._exchange = exchange
        self._binding = binding
        self._connection: AbstractConnection | None = None
        self._queue: AbstractQueue | None = None

    async def __aenter__(self) -> InboundTap:
        self._connection = await aio_pika.connect(self._amqp_url)
        channel: AbstractChannel = await self._connection.channel()
        self._queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await self._queue.bind(self._exchange, routing_key=self._binding)
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def next(self, *, timeout: float = 10.0) -> AbstractIncomingMessage:
        """The next message published, waiting for it until the deadline."""
        assert self._queue is not None
        queue = self._queue
        message = await eventually(lambda: queue.get(no_ack=True, fail=False), timeout=timeout,
                                   what="a message on the inbound exchange")
        assert message is not None
        return message

    async def take(self, count: int, *, timeout: float = 10.0) -> list[AbstractIncomingMessage]:
        return [await self.next(timeout=timeout) for _ in range(count)]

    async def is_empty(self) -> bool:
        """Nothing more to read. Ingress answers only after the broker confirmed, so no wait is needed."""
        assert self._queue is not None
        return await self._queue.get(no_ack=True, fail=False) is None


def envelope_of(message: AbstractIncomingMessage) -> dict[str, Any]:
    return dict(json.loads(message.body))
