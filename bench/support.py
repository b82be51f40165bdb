"""What the benchmarks share: Parley as a subprocess on a free port, a webhook receiver, percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

import aio_pika
import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.broker.topology import EXCHANGES, QUEUES
from shared.crypto import generate_key
from shared.runtime import HttpServer, free_port

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class ParleyProcess:
    base_url: str
    account_sid: str
    auth_token: str
    prefix: str
    secret_key: str


@contextlib.asynccontextmanager
async def parley_process(**settings: str) -> AsyncIterator[ParleyProcess]:
    """`python -m services` with its own name prefixes, removed afterwards; `settings` add to its environment."""
    prefix = "b" + secrets.token_hex(4)
    port = free_port()
    account_sid, auth_token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    secret_key = generate_key()
    env = {
        **os.environ, "PORT": str(port), "AMQP_URL": AMQP_URL, "DATABASE_URL": DATABASE_URL,
        "PARLEY_SCHEMA_PREFIX": f"{prefix}_", "PARLEY_BROKER_PREFIX": f"{prefix}.",
        "PARLEY_ACCOUNT_SID": account_sid, "PARLEY_AUTH_TOKEN": auth_token, "PARLEY_SECRET_KEY": secret_key,
        "PARLEY_EGRESS_NETWORKS": "127.0.0.0/8", "LOG_LEVEL": "WARNING", **settings,
    }
    process = subprocess.Popen([sys.executable, "-m", "services"], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{base}/api/2010-04-01/Accounts/{account_sid}.json",
                                         auth=(account_sid, auth_token))).status_code == 200:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Parley did not start")
                await asyncio.sleep(0.2)
        yield ParleyProcess(base_url=base, account_sid=account_sid, auth_token=auth_token, prefix=prefix,
                            secret_key=secret_key)
    finally:
        process.terminate()
        process.wait(timeout=30)
        await remove_prefix(prefix)


async def remove_prefix(prefix: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for spec in QUEUES:
            await channel.queue_delete(f"{prefix}.{spec.name}")
        for name in EXCHANGES:
            await channel.exchange_delete(f"{prefix}.{name}")
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        for row in await conn.fetch("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", f"{prefix}_"):
            await conn.execute(f'DROP SCHEMA "{row["nspname"]}" CASCADE')
    finally:
        await conn.close()


class TimingReceiver:
    """Records when each webhook arrived, keyed by a field of the request."""

    def __init__(self, key: Callable[[dict[str, str]], str | None]) -> None:
        self.key = key
        self.arrivals: dict[str, float] = {}
        self.port = free_port()
        self._server = HttpServer(Starlette(routes=[Route("/{p:path}", self._handle, methods=["POST"])]),  # type: ignore[arg-type]
                                  host="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: Request) -> Response:
        fields = dict(parse_qsl((await request.body()).decode()))
        name = self.key(fields)
        if name is not None:
            self.arrivals.setdefault(name, time.perf_counter())
        return Response(status_code=200)

    async def start(self) -> None:
        await self._server.start()

    async def stop(self) -> None:
        await self._server.stop()
