"""Ingress alone, and a tap on the inbound exchange to see what it publishes."""

from collections.abc import AsyncIterator

import pytest

from services.ingress.app import SERVICE as INGRESS
from shared.broker.topology import INBOUND
from shared.settings import Settings
from tests.conftest import StartParley
from tests.ingress.inbound_tap import InboundTap
from tests.support.parley import RunningParley


@pytest.fixture
async def ingress(launch: StartParley) -> RunningParley:
    return await launch([INGRESS])


@pytest.fixture
async def inbound_tap(ingress: RunningParley, settings: Settings) -> AsyncIterator[InboundTap]:
    """Bound after ingress started (it declares the exchange); sees everything published from then on."""
    async with InboundTap(settings.amqp_url, settings.broker_name(INBOUND)) as tap:
        yield tap
