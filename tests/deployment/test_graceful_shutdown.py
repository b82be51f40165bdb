"""A rolling restart under load: the old process, sent SIGTERM, settles the messages it holds, publishes what it
committed and exits 0 by itself; the new one carries on; nothing is stored twice and nothing is redelivered.

Both processes sit behind one public URL (PUBLIC_BASE_URL, as behind a proxy), so the provider's signed posts are
valid on either; the load goes to the new one from the moment the old one is told to stop, and a post that meets
a closing connection is posted again, as a provider retries (the same MessageSid). A redelivery is what the
consumers log as `message redelivered` (the broker's flag on a message some channel held unsettled and gave back).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.runtime import free_port
from shared.settings import Settings
from shared.sids import new_sid, new_token
from shared.signatures import twilio_signature
from tests.conversations.test_inbound_threading import configure_address, conversations_of, messages_of
from tests.support.own_postgres import own_postgres
from tests.support.parley import REPOSITORY, process_environment
from tests.support.provider import Provider, create_twilio_provider, inbound_form
from tests.support.waiting import eventually

NUMBER = "+15550006666"
CUSTOMERS = 20
SHUTDOWN_TIMEOUT = 20.0
REDELIVERED = "message redelivered"


class Deployment:
    """Parley processes on the test's settings, each on its own port behind one public URL."""

    def __init__(self, settings: Settings, logs: Path) -> None:
        self.public_port = free_port()
        self.sid, self.token = new_sid("AC"), new_token()
        self._settings = settings
        self._logs = logs
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, port: int) -> subprocess.Popen[bytes]:
        log = self._logs / f"parley-{port}.log"
        env = process_environment(
            self._settings, PORT=str(port), PUBLIC_BASE_URL=f"http://127.0.0.1:{self.public_port}",
            PARLEY_ACCOUNT_SID=self.sid, PARLEY_AUTH_TOKEN=self.token, PARLEY_SHUTDOWN_TIMEOUT=str(SHUTDOWN_TIMEOUT),
            PARLEY_POLL_INTERVAL="0.2", LOG_LEVEL="INFO")
        with log.open("wb") as output:
            process = subprocess.Popen([sys.executable, "-m", "services"], cwd=REPOSITORY, env=env,
                                       stdout=subprocess.DEVNULL, stderr=output)
        self.processes.append((process, log))
        return process

    def client(self, port: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", auth=(self.sid, self.token), timeout=30)

    async def serving(self, port: int) -> None:
        process, log = next((process, log) for process, log in self.processes if log.name == f"parley-{port}.log")
        async with self.client(port) as client:
            async def answers() -> bool:
                assert process.poll() is None, log.read_text(errors="replace")[-3000:]
                try:
                    return (await client.get(f"/api/2010-04-01/Accounts/{self.sid}.json")).status_code == 200
                except httpx.TransportError:
                    return False
            await eventually(answers, timeout=90, what=f"Parley serving on {port}")

    def logged(self, text: str) -> int:
        return sum(log.read_text(errors="replace").count(text) for _, log in self.processes)


@pytest.fixture
def deployment(settings: Settings, tmp_path: Path) -> Iterator[Deployment]:
    """On a PostgreSQL cluster of its own: two whole Parleys under load want more connections than a shared
    server may have left."""
    with own_postgres() as postgres:
        yield from _deployment(settings.model_copy(update={"database_url": postgres.database_url}), tmp_path)


def _deployment(settings: Settings, tmp_path: Path) -> Iterator[Deployment]:
    running = Deployment(settings, tmp_path)
    yield running
    for process, _ in running.processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


class Load:
    """Every customer writes, each message after the previous one was accepted (their order), until told to end."""

    def __init__(self, provider: Provider, port: int) -> None:
        self.provider = provider
        self.port = port  # where the posts go; the signature is the public URL's
        self.accepted = 0
        self.sent = [0] * CUSTOMERS  # accepted messages per customer
        self._ending = asyncio.Event()

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            await asyncio.gather(*(self._customer(http, n) for n in range(CUSTOMERS)))

    async def until(self, accepted: int) -> None:
        await eventually(lambda: asyncio.sleep(0, self.accepted), until=lambda count: count >= accepted,
                         timeout=120, what=f"{accepted} messages accepted")

    def end(self) -> None:
        self._ending.set()

    async def _customer(self, http: httpx.AsyncClient, n: int) -> None:
        while not self._ending.is_set():
            index = self.sent[n]
            form = inbound_form(from_address=customer(n), to_address=NUMBER, body=f"customer {n} message {index}")
            signature = twilio_signature(self.provider.inbound_url, list(form.items()), self.provider.auth_token)
            path = httpx.URL(self.provider.inbound_url).path
            while True:
                try:
                    answer = await http.post(f"http://127.0.0.1:{self.port}{path}", data=form,
                                             headers={"X-Twilio-Signature": signature})
                    if answer.status_code == 200:
                        break
                except httpx.TransportError:
                    pass  # the process stopping closed the connection: the provider posts again
                await asyncio.sleep(0.05)
            self.sent[n] += 1
            self.accepted += 1


def customer(n: int) -> str:
    return f"+1555200{n:04d}"


async def exited(process: subprocess.Popen[bytes]) -> int:
    return await asyncio.to_thread(process.wait, SHUTDOWN_TIMEOUT)


async def test_a_rolling_restart_under_load_stores_each_message_once_redelivers_nothing_and_exits_cleanly(
    deployment: Deployment,
) -> None:
    old_port, new_port = free_port(), free_port()
    old = deployment.start(old_port)
    await deployment.serving(old_port)
    async with deployment.client(old_port) as client:
        provider = await create_twilio_provider(client, NUMBER)
        await configure_address(client, NUMBER)

    load = Load(provider, old_port)
    sending = asyncio.create_task(load.run())
    await load.until(CUSTOMERS * 3)
    new = deployment.start(new_port)
    await deployment.serving(new_port)  # the load goes on meanwhile: the old process holds messages in hand
    old.send_signal(signal.SIGTERM)
    load.port = new_port
    await load.until(load.accepted + CUSTOMERS * 3)
    load.end()
    await sending
    total = load.accepted

    async with deployment.client(new_port) as client:
        async def stored() -> dict[str, list[str]]:
            found = {}
            for conversation in await conversations_of(client):
                found[conversation["sid"]] = [message["body"] for message in
                                              await messages_of(client, conversation["sid"])]
            return found
        by_conversation = await eventually(
            stored, until=lambda found: sum(len(bodies) for bodies in found.values()) >= total and len(found) >= CUSTOMERS,
            timeout=120, what="every accepted message stored")
    assert await exited(old) == 0
    new.send_signal(signal.SIGTERM)
    assert await exited(new) == 0  # the barrier: whatever it would have logged, it has

    assert len(by_conversation) == CUSTOMERS  # one conversation per customer
    for bodies in by_conversation.values():
        n = int(bodies[0].split()[1])
        # Once each. Not necessarily in order: for a moment two processes consume the queue, each keeping the order
        # of what it got (the conversation's index then tells the order stored).
        assert sorted(bodies, key=lambda body: int(body.split()[-1])) == [
            f"customer {n} message {index}" for index in range(load.sent[n])]
    assert deployment.logged("parley stopped") == 2
    assert deployment.logged(REDELIVERED) == 0
