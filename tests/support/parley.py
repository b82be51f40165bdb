"""Parley started inside the test's event loop on a free port, isolated by name prefixes."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx

from shared.auth.accounts import Account
from shared.broker.migration import MIGRATING_SUFFIX
from shared.broker.topology import EXCHANGES, QUEUES
from shared.crypto import generate_key
from shared.runtime import HttpServer, Runtime, ServiceDefinition, free_port
from shared.settings import Settings
from tests.support.infrastructure import Infrastructure

REPOSITORY = Path(__file__).resolve().parents[2]

# One key for the whole run, so instances a test starts one after another read what the others stored.
TEST_SECRET_KEY = generate_key()


def test_settings(infra: Infrastructure, **overrides: Any) -> Settings:
    prefix = "t" + secrets.token_hex(4)
    values: dict[str, Any] = {
        "AMQP_URL": infra.amqp_url,
        "DATABASE_URL": infra.database_url,
        "PARLEY_SCHEMA_PREFIX": f"{prefix}_",
        "PARLEY_BROKER_PREFIX": f"{prefix}.",
        "PARLEY_EGRESS_NETWORKS": ["127.0.0.0/8"],
        "PARLEY_DELIVERY_LIMIT": 3,
        "PARLEY_WEBHOOK_TIMEOUT": 2.0,
        "PARLEY_WEBHOOK_MAX_ATTEMPTS": 4,
        "PARLEY_WEBHOOK_BACKOFF_BASE": 0.05,
        "PARLEY_WEBHOOK_BACKOFF_MAX": 0.5,
        "PARLEY_POLL_INTERVAL": 0.2,
        "PARLEY_SHUTDOWN_TIMEOUT": 6.0,  # a test's Parley stops with a broker or database gone: it waits less
        "PARLEY_LOG_JSON": False,
        "PARLEY_SECRET_KEY": TEST_SECRET_KEY,
        "PORT": free_port(),
    }
    values.update(overrides)
    return Settings(**values)


def process_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a Parley child process on `settings`: the same isolated names (so the test's
    teardown removes what it made) and the same secret key (so it reads what this run stored)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PARLEY_")}
    env.update({
        "AMQP_URL": settings.amqp_url, "DATABASE_URL": settings.database_url, "HOST": "127.0.0.1",
        "PORT": str(settings.port), "PARLEY_SCHEMA_PREFIX": settings.schema_prefix,
        "PARLEY_BROKER_PREFIX": settings.broker_prefix, "PARLEY_EGRESS_NETWORKS": "127.0.0.0/8",
        "PARLEY_SECRET_KEY": settings.secret_key or "", "PARLEY_LOG_JSON": "false",
        "PYTHONPATH": str(REPOSITORY), **extra,
    })
    return env


@dataclass
class RunningParley:
    runtime: Runtime
    server: HttpServer | None
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def account(self) -> Account:
        assert self.runtime.dev_account is not None
        return self.runtime.dev_account

    def client(self, account: Account | None = None) -> httpx.AsyncClient:
        """An HTTP client authenticated as `account` (the dev account by default)."""
        who = account or self.account
        return httpx.AsyncClient(base_url=self.base_url, auth=(who.sid, who.auth_token), timeout=30)

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
        await self.runtime.stop()


async def start_parley(settings: Settings, services: Sequence[ServiceDefinition], *, http: bool = True,
                       port: int | None = None) -> RunningParley:
    runtime = Runtime(settings, services)
    await runtime.start()
    port = port or settings.port
    server = None
    if http:
        server = HttpServer(runtime.app, host="127.0.0.1", port=port)
        await server.start()
    return RunningParley(runtime=runtime, server=server, port=port)


async def remove_isolated_names(settings: Settings) -> None:
    """Drop what a test run declared: its queues, exchanges and schemas."""
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        for spec in QUEUES:
            await channel.queue_delete(settings.broker_name(spec.name))
            await channel.queue_delete(settings.broker_name(spec.name) + MIGRATING_SUFFIX)  # a migration cut short
        for name in EXCHANGES:
            await channel.exchange_delete(settings.broker_name(name))
    finally:
        await connection.close()
    conn = await asyncpg.connect(settings.database_url)
    try:
        schemas = await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", settings.schema_prefix
        )
        for row in schemas:
            await conn.execute(f'DROP SCHEMA "{row["nspname"]}" CASCADE')
    finally:
        await conn.close()
