"""This replica's own view of `parley.events`: an exclusive, auto-deleted queue bound to what it needs.

Every ingress replica declares its own, so each sees every event (WebSocket fan-out, web-chat answers);
nothing is left behind when a replica goes away. Events are hints to forward, not work to do: they are
taken without acks, and a replica that was down catches up from the conversations' own log instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from shared.broker.connection import Broker
from shared.broker.topology import EVENTS

log = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any]], Awaitable[None]]


class EventFeed:
    def __init__(self, broker: Broker, *, bindings: Sequence[str]) -> None:
        self._broker = broker
        self._bindings = tuple(bindings)
        self._listeners: list[Listener] = []
        self._ready = asyncio.Event()

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def ready(self, timeout: float = 10.0) -> None:
        """Returns once the queue is bound: from then on, no event is missed."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def run(self) -> None:
        channel = await self._broker.connection.channel()
        try:
            await channel.set_qos(prefetch_count=256)
            exchange = await channel.get_exchange(self._broker.settings.broker_name(EVENTS), ensure=True)
            queue = await channel.declare_queue(exclusive=True, auto_delete=True, arguments={"x-queue-type": "classic"})
            for key in self._bindings:
                await queue.bind(exchange, routing_key=key)
            await queue.consume(self._on_message, no_ack=True)
            self._ready.set()
            await asyncio.Future()  # consume until cancelled
        finally:
            self._ready.clear()
            if not channel.is_closed:
                await channel.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            envelope = json.loads(message.body)
        except ValueError:
            log.warning("unreadable event skipped", extra={"routing_key": message.routing_key})
            return
        if not isinstance(envelope, dict):
            return
        for listener in self._listeners:
            try:
                await listener(envelope)
            except Exception:
                log.exception("event listener failed", extra={"type": envelope.get("type")})
