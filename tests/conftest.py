"""Fixtures: the real broker and database, Parley on a free port, receivers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from services.catalog import ALL_SERVICES
from shared.runtime import ServiceDefinition
from shared.settings import Settings
from tests.support.infrastructure import Infrastructure, infrastructure
from tests.support.parley import RunningParley, remove_isolated_names, start_parley, test_settings
from tests.support.provider import carrier_answer
from tests.support.receiver import Receiver


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    with infrastructure() as found:
        yield found


@pytest.fixture
async def settings(infra: Infrastructure) -> AsyncIterator[Settings]:
    """Settings isolated to this test: its own schemas, exchanges and queues, removed afterwards."""
    isolated = test_settings(infra)
    yield isolated
    await remove_isolated_names(isolated)


StartParley = Callable[..., Awaitable[RunningParley]]


@pytest.fixture
async def launch(settings: Settings) -> AsyncIterator[StartParley]:
    """Start Parley (all services, or the ones named) on this test's settings; stopped at teardown."""
    started: list[RunningParley] = []

    async def _launch(services: Sequence[ServiceDefinition] = ALL_SERVICES, **kwargs: Any) -> RunningParley:
        running = await start_parley(kwargs.pop("settings", settings), services, **kwargs)
        started.append(running)
        return running

    yield _launch
    for running in reversed(started):
        await running.stop()


@pytest.fixture
async def parley(launch: StartParley) -> RunningParley:
    return await launch()


@pytest.fixture
async def sockets() -> AsyncIterator[list[ClientConnection]]:
    """The test's realtime sockets (tests/support/realtime.py), closed at its end."""
    opened: list[ClientConnection] = []
    yield opened
    for ws in opened:
        await ws.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    webhook_receiver = Receiver()
    await webhook_receiver.start()
    yield webhook_receiver
    await webhook_receiver.stop()


@pytest.fixture
async def carrier() -> AsyncIterator[Receiver]:
    """A carrier's API that accepts every send (a provider's ApiBaseUrl points here)."""
    fake = Receiver(responder=carrier_answer)
    await fake.start()
    yield fake
    await fake.stop()
