"""A database and a broker of the test's own, for the test to crash; the machine's own are never touched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.own_postgres import OwnPostgres, own_postgres
from tests.support.own_rabbitmq import OwnRabbitMQ, own_rabbitmq


@pytest.fixture
def postgres() -> Iterator[OwnPostgres]:
    with own_postgres() as cluster:
        yield cluster


@pytest.fixture
def rabbitmq() -> Iterator[OwnRabbitMQ]:
    """Name it before `launch` among a test's fixtures: removed after Parley stopped, which needs its broker."""
    with own_rabbitmq() as node:
        yield node
