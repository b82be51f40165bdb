"""Where the real RabbitMQ and PostgreSQL are: the environment's URLs, the local servers, or containers."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass

LOCAL_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
LOCAL_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Infrastructure:
    amqp_url: str
    database_url: str


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


@contextlib.contextmanager
def infrastructure() -> Iterator[Infrastructure]:
    amqp = os.environ.get("AMQP_URL") or (LOCAL_AMQP if _answers(5672) else None)
    database = os.environ.get("DATABASE_URL") or (LOCAL_DATABASE if _answers(5432) else None)
    with contextlib.ExitStack() as stack:
        if amqp is None:
            from testcontainers.rabbitmq import RabbitMqContainer

            rabbit = stack.enter_context(RabbitMqContainer("rabbitmq:3.13-management"))
            amqp = (
                f"amqp://{rabbit.username}:{rabbit.password}@{rabbit.get_container_host_ip()}:"
                f"{rabbit.get_exposed_port(rabbit.port)}/"
            )
        if database is None:
            from testcontainers.postgres import PostgresContainer

            postgres = stack.enter_context(PostgresContainer("postgres:16-alpine"))
            database = postgres.get_connection_url(driver=None)
        yield Infrastructure(amqp_url=amqp, database_url=database)
