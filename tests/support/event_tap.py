"""A listener on one exchange (`parley.events` by default): records every message, so tests can assert what
was announced, or which delivery commands were handed to the webhooks service (`parley.commands`).

On `parley.events` it is also a subscriber: events are published as mandatory, so until some service
consumes them a test running one service alone needs a queue for them to land in.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from shared.broker.topology import EVENTS
from shared.settings import Settings


@dataclass
class EventTap:
    settings: Settings
    exchange: str = EVENTS
    binding: str = "#"
    events: list[dict[str, Any]] = field(default_factory=list)
    _connection: AbstractRobustConnection | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self.settings.amqp_url)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            self.settings.broker_name(self.exchange), aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=self.binding)
        await queue.consume(self._on_message, no_ack=True)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        async with self._arrived:
            self.events.append(json.loads(message.body))
            self._arrived.notify_all()

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == event_type]

    async def wait_for(self, event_type: str, count: int = 1, *, timeout: float = 20.0,
                       where: Callable[[dict[str, Any]], bool] = lambda _: True) -> list[dict[str, Any]]:
        def matching() -> list[dict[str, Any]]:
            return [event for event in self.of_type(event_type) if where(event)]

        async with self._arrived:
            try:
                await asyncio.wait_for(self._arrived.wait_for(lambda: len(matching()) >= count), timeout)
            except TimeoutError:
                raise AssertionError(f"saw {len(matching())} {event_type} events, expected {count}") from None
        return matching()
