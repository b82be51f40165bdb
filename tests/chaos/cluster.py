"""A Parley deployment of the chaos suite's own: a PostgreSQL cluster and a RabbitMQ node on other ports (never the
machine's servers), the services as separate processes with replicas, and a front door routing the URL prefixes
of deploy/nginx.conf to them, the one address providers, agents and webhooks configuration see."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.db import ensure_database
from shared.runtime import free_port
from shared.settings import Settings
from tests.chaos.processes import ParleyProcess, stop_all
from tests.support.front_door import FrontDoor
from tests.support.own_postgres import OwnPostgres, own_postgres
from tests.support.own_rabbitmq import OwnRabbitMQ, own_rabbitmq
from tests.support.parley import TEST_SECRET_KEY, process_environment

# Replicas per service: ingress is the one edge providers post to; the others run two each.
TOPOLOGY: Mapping[str, int] = {"ingress": 1, "conversations": 2, "router": 2, "webhooks": 2}
# Seven processes keep up to 14 connections each; the default 100 would be a fault of its own.
POSTGRES_CONFIGURATION = {"max_connections": "300"}


@dataclass
class Cluster:
    postgres: OwnPostgres
    rabbitmq: OwnRabbitMQ
    front_door: FrontDoor
    processes: list[ParleyProcess]
    account_sid: str
    auth_token: str

    def replicas(self, service: str) -> list[ParleyProcess]:
        return [process for process in self.processes if process.service == service]

    def client(self, *, timeout: float = 30) -> httpx.AsyncClient:
        """The account's REST client, through the front door."""
        return httpx.AsyncClient(base_url=self.front_door.url, auth=(self.account_sid, self.auth_token),
                                 timeout=timeout)

    def kill(self, processes: list[ParleyProcess]) -> None:
        for process in processes:
            process.kill()

    async def start(self, processes: list[ParleyProcess]) -> None:
        for process in processes:
            process.start()
        await asyncio.gather(*(process.wait_until_serving(self.account_sid, self.auth_token) for process in processes))

    def log_bytes(self) -> dict[str, int]:
        return {process.name: process.log_bytes() for process in self.processes}


@contextlib.asynccontextmanager
async def running_cluster(directory: Path, topology: Mapping[str, int] = TOPOLOGY,
                          **settings: str) -> AsyncIterator[Cluster]:
    """`directory` keeps the processes' logs; `settings`: more PARLEY_* variables for every process."""
    directory.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before anything runs)
    with contextlib.ExitStack() as servers:
        # Both take a while to boot; side by side.
        postgres, rabbitmq = await asyncio.gather(
            asyncio.to_thread(servers.enter_context, own_postgres(**POSTGRES_CONFIGURATION)),
            asyncio.to_thread(servers.enter_context, own_rabbitmq()))
        processes: list[ParleyProcess] = []
        front_door = FrontDoor(lambda service: [p.port for p in processes if p.service == service])
        account_sid, auth_token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
        base = Settings(AMQP_URL=rabbitmq.amqp_url, DATABASE_URL=postgres.database_url,
                        PARLEY_SECRET_KEY=TEST_SECRET_KEY, PORT=front_door.port)
        environment = process_environment(base, PUBLIC_BASE_URL=front_door.url, PARLEY_ACCOUNT_SID=account_sid,
                                          PARLEY_AUTH_TOKEN=auth_token, LOG_LEVEL="INFO",
                                          PARLEY_LOG_JSON="true", **settings)  # as in production: timed lines
        await ensure_database(postgres.database_url)  # the replicas then migrate side by side, under locks
        for service, count in topology.items():
            processes.extend(ParleyProcess(service=service, replica=replica, port=free_port(), environment=environment,
                                           log_path=directory / f"{service}-{replica}.log")
                             for replica in range(1, count + 1))
        cluster = Cluster(postgres=postgres, rabbitmq=rabbitmq, front_door=front_door, processes=processes,
                          account_sid=account_sid, auth_token=auth_token)
        await front_door.start()
        try:
            await cluster.start(processes)
            yield cluster
        finally:
            stop_all(processes)
            await front_door.stop()
