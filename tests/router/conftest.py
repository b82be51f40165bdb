"""Router fixtures: the router alone on the test's settings, the official twilio client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aio_pika
import pytest
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from services.router.app import SERVICE as ROUTER
from shared.broker.topology import EVENTS
from shared.settings import Settings
from tests.support.parley import RunningParley


@dataclass
class Router:
    parley: RunningParley
    client: Client

    @property
    def base_url(self) -> str:
        return self.parley.base_url


def twilio_client(parley: RunningParley, *, sid: str | None = None, token: str | None = None) -> Client:
    client = Client(sid or parley.account.sid, token or parley.account.auth_token, http_client=AsyncTwilioHttpClient())
    client.taskrouter.base_url = f"{parley.base_url}/taskrouter"
    client.api.base_url = f"{parley.base_url}/api"
    return client


@pytest.fixture
async def event_tap(settings: Settings) -> AsyncIterator[aio_pika.abc.AbstractQueue]:
    """A queue bound to every event on the fabric, so tests can read what the router announced."""
    connection = await aio_pika.connect(settings.amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(settings.broker_name(EVENTS), aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(settings.broker_name("test.router.events"), auto_delete=False)
    await queue.bind(exchange, routing_key="#")
    yield queue
    await queue.delete(if_unused=False, if_empty=False)
    await connection.close()


@pytest.fixture
async def router(launch, event_tap) -> AsyncIterator[Router]:  # type: ignore[no-untyped-def]
    parley: RunningParley = await launch([ROUTER])
    client = twilio_client(parley)
    yield Router(parley=parley, client=client)
    await client.http_client.close()  # type: ignore[attr-defined]
