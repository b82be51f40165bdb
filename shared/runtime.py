"""Composes services into one process: migrations, pools, broker, consumers, relays and one HTTP app.

`make run` composes all four services; `python -m services.<name>` composes one; tests compose
whichever they need, so a "stopped service" is simply one not composed yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import FrameType

import asyncpg
import uvicorn
from fastapi import APIRouter, FastAPI

from shared.auth import accounts, keys
from shared.auth.accounts import Account, AccountDirectory, ensure_dev_account
from shared.auth.api import accounts_router
from shared.auth.deps import Authenticator
from shared.auth.passwords import Passwords
from shared.auth.throttle import GuessLimits, GuessThrottle
from shared.broker.connection import Broker
from shared.broker.consumer import Consumer, ConsumerRunner
from shared.cors import install_cors
from shared.crypto import SealedColumn, SecretBox, box_of, reseal_column
from shared.db import create_pool, ensure_database
from shared.http import install_error_handlers
from shared.migrations import migrate_service
from shared.outages import Outage, is_infrastructure_failure
from shared.outbound_http import OutboundHttp
from shared.outbox import OutboxRelay
from shared.paging import PageTokenKeys, page_tokens_keyed
from shared.references import ReferenceCheck
from shared.retention import PROCESSED_MESSAGES, Pruning, pruning_loop
from shared.rpc import RpcClient
from shared.settings import Settings

log = logging.getLogger(__name__)

ACCOUNTS_MIGRATIONS = Path(__file__).parent / "auth" / "migrations"
ACCOUNTS_SEALED = (accounts.SEALED, keys.SEALED)


@dataclass(frozen=True)
class ServiceContext:
    """What a service's composition root may use; built once per service by the runtime."""

    name: str
    settings: Settings
    pool: asyncpg.Pool
    broker: Broker
    authenticate: Authenticator
    outbound: OutboundHttp
    box: SecretBox  # seals the secrets the service stores (shared/crypto.py)


@dataclass
class ServiceParts:
    routers: list[APIRouter] = field(default_factory=list)
    consumers: list[Consumer] = field(default_factory=list)
    loops: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    migrations: Path | None
    build: Callable[[ServiceContext], ServiceParts]
    # The columns of its schema holding secrets: sealed at start-up when still plaintext, re-sealed by
    # `parley rotate-secret-key`.
    sealed: tuple[SealedColumn, ...] = ()


async def prepare_database(settings: Settings, services: Sequence[ServiceDefinition]) -> None:
    """Create the database if missing and bring every schema up to date."""
    await ensure_database(settings.database_url)
    await migrate_service(settings.database_url, schema=settings.schema_name("accounts"), directory=ACCOUNTS_MIGRATIONS,
                          fabric=False)
    for service in services:
        await migrate_service(settings.database_url, schema=settings.schema_name(service.name), directory=service.migrations)


async def seal_plaintext(pool: asyncpg.Pool, columns: Sequence[SealedColumn], box: SecretBox) -> None:
    """Rows written before secrets were sealed (or restored from such a backup) are sealed now."""
    for column in columns:
        if sealed := await reseal_column(pool, column, box, rotate=False):
            log.info("sealed plaintext secrets", extra={"table": column.table, "rows": sealed})


class Runtime:
    def __init__(self, settings: Settings, services: Sequence[ServiceDefinition]) -> None:
        self.settings = settings
        self.services = list(services)
        self.app = FastAPI(title="Parley", docs_url="/parley/docs", openapi_url="/parley/openapi.json")
        install_cors(self.app, settings)  # the web-chat widget calls Parley from businesses' own sites
        self.broker = Broker(settings)
        self.dev_account: Account | None = None
        self._pools: list[asyncpg.Pool] = []
        self._consumers: list[ConsumerRunner] = []
        self._relays: list[tuple[OutboxRelay, asyncio.Task[None]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        self._outbound: OutboundHttp | None = None
        self._passwords: Passwords | None = None

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            # What was started (loops, consumers, pools) would otherwise run on, unowned, after a failed start.
            await self.stop(timeout=0)
            raise

    async def _start(self) -> None:
        settings = self.settings
        box = box_of(settings.secret_key)  # before anything else: without it nothing stored can be read
        await prepare_database(settings, self.services)
        accounts_pool = await self._pool("accounts", max_size=4)
        await seal_plaintext(accounts_pool, ACCOUNTS_SEALED, box)
        directory = AccountDirectory(accounts_pool, box)
        self.dev_account = await ensure_dev_account(
            accounts_pool, sid=settings.dev_account_sid, auth_token=settings.dev_auth_token, box=box
        )
        throttle = GuessThrottle(accounts_pool, GuessLimits(
            per_credential=settings.auth_failures_per_credential, per_address=settings.auth_failures_per_address,
            window=timedelta(seconds=settings.auth_failure_window_seconds),
        ), cache_seconds=settings.auth_throttle_cache_seconds)
        authenticate = Authenticator(directory, throttle=throttle, token_cache_seconds=settings.token_check_cache_seconds)
        self._passwords = Passwords(settings.password_hash_threads)
        forget_guesses = pruning_loop(accounts_pool, [("guess_counts", throttle.pruning())],
                                      interval_seconds=settings.retention_interval_seconds)
        self._tasks.append(asyncio.create_task(self._supervise("accounts", forget_guesses)))
        await self.broker.connect()
        self._outbound = OutboundHttp(settings.egress_networks, max_answer_bytes=settings.outbound_answer_max_bytes)
        install_error_handlers(self.app)
        page_tokens_keyed(self.app, PageTokenKeys.of(box))
        # Agents and access tokens name other services' SIDs; their owners are asked over RPC.
        accounts_rpc = RpcClient(self.broker)
        self._on_stop.append(accounts_rpc.close)
        references = ReferenceCheck(accounts_rpc, timeout=settings.reference_check_timeout_seconds)
        self.app.include_router(accounts_router(authenticate, self._passwords, references))
        for service in self.services:
            pool = await self._pool(service.name)
            await seal_plaintext(pool, service.sealed, box)
            context = ServiceContext(
                name=service.name, settings=settings, pool=pool, broker=self.broker,
                authenticate=authenticate, outbound=self._outbound, box=box,
            )
            parts = service.build(context)
            for router in parts.routers:
                self.app.include_router(router)
            relay = OutboxRelay(pool, self.broker, schema=settings.schema_name(service.name),
                                poll_interval=settings.poll_interval_seconds)
            forget_processed = pruning_loop(pool, [("processed_messages", Pruning(
                "processed messages", PROCESSED_MESSAGES, timedelta(hours=settings.dedupe_retention_hours),
            ))], interval_seconds=settings.retention_interval_seconds)
            self._relays.append((relay, asyncio.create_task(self._supervise(service.name, relay.run))))
            for loop in [forget_processed, *parts.loops]:
                self._tasks.append(asyncio.create_task(self._supervise(service.name, loop)))
            for consumer in parts.consumers:
                runner = ConsumerRunner(consumer, broker=self.broker, pool=pool, prefetch=settings.prefetch)
                await runner.start()
                self._consumers.append(runner)
            self._on_stop.extend(parts.on_stop)
        log.info("parley started", extra={"services": [service.name for service in self.services]})

    async def _pool(self, name: str, max_size: int = 10) -> asyncpg.Pool:
        pool = await create_pool(self.settings.database_url, schema=self.settings.schema_name(name), max_size=max_size)
        self._pools.append(pool)
        return pool

    async def _supervise(self, service: str, loop: Callable[[], Awaitable[None]]) -> None:
        """Keep a background loop alive: a crash is logged and the loop restarted; an outage of the database
        or the broker is told in a few lines and waited out with backoff."""
        outage = Outage(log, f"a background loop of {service} ({getattr(loop, '__qualname__', loop)})")
        while True:
            try:
                await loop()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if is_infrastructure_failure(error):
                    outage.failed(error)
                    await outage.pause()
                    continue
                log.exception("background loop crashed; restarting", extra={"service": service})
                await asyncio.sleep(self.settings.poll_interval_seconds)

    async def stop(self, timeout: float | None = None) -> None:
        """A graceful stop within `timeout` (default: half of PARLEY_SHUTDOWN_TIMEOUT; the HTTP server, stopped
        first, has a quarter, and closing the rest): the consumers take no more messages and settle those they
        hold, the background loops stop, and the outbox relays publish what was committed until then. What is
        still unsettled at the deadline goes back to its queue, to be redelivered to another process."""
        deadline = asyncio.get_running_loop().time() + (
            self.settings.shutdown_timeout_seconds / 2 if timeout is None else timeout)

        def remaining() -> float:
            return max(0.0, deadline - asyncio.get_running_loop().time())

        await asyncio.gather(*(runner.cancel() for runner in self._consumers), return_exceptions=True)
        if not all(await asyncio.gather(*(runner.settled(remaining()) for runner in self._consumers))):
            log.warning("shutdown timeout: messages not yet settled go back to their queues")
        for runner in self._consumers:
            with contextlib.suppress(Exception):
                await runner.stop()
        for task in self._tasks:
            task.cancel()  # a loop may write to the outbox: stopped before the relays' last round
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for relay, _ in self._relays:
            relay.finish()
        relaying = [task for _, task in self._relays]
        if relaying:
            _, late = await asyncio.wait(relaying, timeout=remaining())
            if late:
                log.warning("shutdown timeout: what the outbox still holds is published by another process or the "
                            "next start")
            for task in late:
                task.cancel()
            await asyncio.gather(*relaying, return_exceptions=True)
        for callback in self._on_stop:
            with contextlib.suppress(Exception):
                await callback()
        if self._outbound is not None:
            await self._outbound.close()
        if self._passwords is not None:
            self._passwords.close()
        await self.broker.close()
        await asyncio.gather(*(_close_pool(pool) for pool in self._pools))
        self._consumers.clear()
        self._relays.clear()
        self._tasks.clear()
        self._pools.clear()


async def _close_pool(pool: asyncpg.Pool) -> None:
    try:
        await asyncio.wait_for(pool.close(), timeout=2)
    except (TimeoutError, Exception):
        # A connection still checked out would hold shutdown hostage; cut it.
        log.warning("database pool did not close in time; terminating its connections")
        pool.terminate()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class HttpServer:
    """uvicorn serving an app inside the current event loop."""

    def __init__(self, app: FastAPI, *, host: str, port: int, graceful_seconds: int | None = None) -> None:
        # Keep idle connections longer than the proxies and providers in front of us do (uvicorn's 5 s
        # default races their reuse of a connection it is closing: the caller sees a dropped request).
        # On a stop, requests under way get `graceful_seconds` to finish (None: as long as they take).
        config = uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="off", access_log=False,
                                timeout_keep_alive=75, timeout_graceful_shutdown=graceful_seconds)
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                await self._task  # raises the reason it could not start
                raise RuntimeError("HTTP server stopped during start-up")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task

    async def serve_forever(self) -> None:
        await self._server.serve()


def listens_on_loopback(settings: Settings) -> bool:
    if settings.host == "localhost":
        return True
    try:
        return ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        return False  # a host name: it may well answer from outside


def startup_banner(settings: Settings, account: Account, *, one_process: bool) -> str:
    """What a process prints once it is up. The auth token is full power over the account, and start-up output
    ends up in container logs and log collectors, so it is printed only where it can serve nobody but the
    developer at this machine: the one-process `parley run`, on a loopback address, for the dev account Parley
    created itself (an account given by PARLEY_ACCOUNT_SID / PARLEY_AUTH_TOKEN is known to whoever gave it)."""
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    created_itself = not (settings.dev_account_sid and settings.dev_auth_token)
    if one_process and created_itself and listens_on_loopback(settings):
        return (f"\nParley is running at {base}\n"
                f"  Account SID: {account.sid}\n"
                f"  Auth token:  {account.auth_token}\n"
                f"  Try: curl -u {account.sid}:{account.auth_token} {base}/conversations/v1/Conversations\n")
    return (f"\nParley is running at {base}\n"
            f"  Account SID: {account.sid}\n"
            "  Auth token:  not printed (choose the account's credentials with PARLEY_ACCOUNT_SID and "
            "PARLEY_AUTH_TOKEN)\n")


async def run_services(settings: Settings, services: Sequence[ServiceDefinition], *, one_process: bool = False) -> None:
    """Run until interrupted: the body of `parley run` and `python -m services` (`one_process`: all services
    here, the developer's way) and of `python -m services.<name>` (one service, as docker-compose runs them)."""
    runtime = Runtime(settings, services)
    await runtime.start()
    # uvicorn answers SIGTERM and SIGINT by stopping its server, then raises the signal again into the handler it
    # found: the default one would end the process before the graceful stop below; this one lets it run.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _stopping_already)
    try:
        if runtime.dev_account is not None:
            print(startup_banner(settings, runtime.dev_account, one_process=one_process), flush=True)
        await HttpServer(runtime.app, host=settings.host, port=settings.port,
                         graceful_seconds=max(1, int(settings.shutdown_timeout_seconds / 4))).serve_forever()
        log.info("stopping: settling the messages in hand and publishing what is committed")
    finally:
        await runtime.stop()
    log.info("parley stopped")


def _stopping_already(signum: int, frame: FrameType | None) -> None:
    """A stop signal after the server stopped: the graceful stop is under way and bounded by its timeout."""
