"""One robust broker connection per process, with a confirming publisher and the declared topology."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue, AbstractRobustConnection

from shared.broker.migration import declared_arguments, migrate_queues
from shared.broker.topology import EXCHANGES, MUST_ROUTE, QUEUES, QueueSpec
from shared.settings import Settings

log = logging.getLogger(__name__)


class UnroutableMessage(Exception):
    """The broker had no queue for the message; publishing it would have lost it."""


class Broker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}

    @property
    def connection(self) -> AbstractRobustConnection:
        assert self._connection is not None, "Broker.connect() first"
        return self._connection

    async def connect(self) -> None:
        self._connection = await aio_pika.connect_robust(self.settings.amqp_url)
        self._publish_channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        await self.declare(QUEUES)

    async def declare(self, queues: Iterable[QueueSpec]) -> None:
        channel = self._publish_channel
        assert channel is not None
        for name in EXCHANGES:
            self._exchanges[name] = await channel.declare_exchange(
                self.settings.broker_name(name), aio_pika.ExchangeType.TOPIC, durable=True
            )
        # Queues an older Parley (or another PARLEY_DELIVERY_LIMIT) declared otherwise would be refused below.
        queues = tuple(queues)
        await migrate_queues(self.settings, queues)
        for spec in queues:
            queue = await self.declare_queue(channel, spec)
            for key in spec.bindings:
                await queue.bind(self._exchanges[spec.exchange], routing_key=key)

    async def declare_queue(self, channel: AbstractChannel, spec: QueueSpec) -> AbstractQueue:
        return await channel.declare_queue(self.settings.broker_name(spec.name), durable=True,
                                           arguments=declared_arguments(self.settings, spec))

    async def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        """Publish and wait for the broker's confirm; raises when the message was not taken."""
        message = persistent_message(body, message_id=message_id, headers=headers)
        try:
            await self._exchanges[exchange].publish(message, routing_key=routing_key, mandatory=exchange in MUST_ROUTE)
        except (aio_pika.exceptions.DeliveryError, aio_pika.exceptions.PublishError) as error:
            raise UnroutableMessage(f"{exchange} {routing_key}: {error}") from error

    async def publish_to_queue(self, queue: str, body: bytes, *, message_id: str, headers: Mapping[str, Any]) -> None:
        """Publish straight to one queue through the default exchange (used to replay dead letters)."""
        channel = self._publish_channel
        assert channel is not None
        message = persistent_message(body, message_id=message_id, headers=headers)
        await channel.default_exchange.publish(message, routing_key=self.settings.broker_name(queue), mandatory=True)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


def persistent_message(body: bytes, *, message_id: str, headers: Mapping[str, Any] | None) -> aio_pika.Message:
    return aio_pika.Message(
        body,
        message_id=message_id,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        headers=dict(headers or {}),
    )
