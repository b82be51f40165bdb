"""Ingress alone, and a tap on the inbound exchange to see what it publishes."""

from collections.abc import AsyncIterator

import pytest

from services.ingress.app import SERVICE as INGRESS
from shared.broker.topology import DEAD, INBOUND
from shared.settings import Settings
from tests.conftest import StartParley
from tests.ingress.inbound_tap import InboundTap
from tests.support.infrastructure import Infrastructure
from tests.support.parley import RunningParley, remove_isolated_names, test_settings

# Sends retry fast and give up soon, so a parked send is seen within a test.
SEND_BUDGET = {
    "PARLEY_SEND_MAX_ATTEMPTS": 3,
    "PARLEY_SEND_BACKOFF_BASE": 0.05,
    "PARLEY_SEND_BACKOFF_MAX": 0.2,
    "PARLEY_SEND_TIMEOUT": 2.0,
}


@pytest.fixture
async def settings(infra: Infrastructure) -> AsyncIterator[Settings]:
    """As the project's fixture, with the small send budget above."""
    isolated = test_settings(infra, **SEND_BUDGET)
    yield isolated
    await remove_isolated_names(isolated)


@pytest.fixture
async def ingress(launch: StartParley) -> RunningParley:
    return await launch([INGRESS])


@pytest.fixture
async def inbound_tap(ingress: RunningParley, settings: Settings) -> AsyncIterator[InboundTap]:
    """Bound after ingress started (it declares the exchange); sees everything published from then on."""
    async with InboundTap(settings.amqp_url, settings.broker_name(INBOUND)) as tap:
        yield tap


@pytest.fixture
async def receipt_tap(ingress: RunningParley, settings: Settings) -> AsyncIterator[InboundTap]:
    """Sees every delivery receipt ingress publishes (`channel.receipt` on the inbound exchange)."""
    async with InboundTap(settings.amqp_url, settings.broker_name(INBOUND), binding="channel.receipt") as tap:
        yield tap


@pytest.fixture
async def dead_tap(ingress: RunningParley, settings: Settings) -> AsyncIterator[InboundTap]:
    """Sees what the dead-letter exchange hears: each parked message and the report of why it failed."""
    async with InboundTap(settings.amqp_url, settings.broker_name(DEAD), binding="#") as tap:
        yield tap
