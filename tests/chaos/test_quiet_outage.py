"""While PostgreSQL is away, the consumers of queues without a delivery limit (the fabric's dead letters and
failure reports, which nothing would ever park) wait it out quietly: one line per queue when it begins and one
when it is over, no traceback per message and no hot loop; and everything they were given is recorded after.

The database is "away" as a crashed server looks to its clients once the port is bound again: a listener of
the test's own on its port takes each connection and drops it. Counting those connections is the barrier:
the service has retried through several backoff rounds of every queue and loop before its log is read.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared.broker.connection import Broker
from shared.broker.topology import DEAD
from shared.contracts.envelope import make_envelope
from shared.contracts.fabric import CONSUMER_FAILED, ConsumerFailed
from shared.runtime import free_port
from shared.settings import Settings
from shared.sids import new_sid, new_token
from tests.support.own_postgres import OwnPostgres, own_postgres
from tests.support.processes import read_lines, start_service_process, stop_process, wait_until_serving
from tests.support.waiting import eventually

MESSAGES = 20  # of each kind: more than one, so a flood per message would show
# Connections the service opens while the database is away: with a hot loop there would be thousands at once;
# backing off, every queue and loop tries a few times over some seconds.
TRIES_TO_SEE = 60
QUIET_QUEUES = ("webhooks.dead_letters", "webhooks.failures")


@pytest.fixture
def postgres() -> Iterator[OwnPostgres]:
    with own_postgres() as cluster:
        yield cluster


class AwayDatabase:
    """Stands on a stopped database's port: takes each connection and drops it, counting them."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._drop, "127.0.0.1", self.port)

    async def _drop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


async def publish_dead_letters_and_failures(broker: Broker, account_sid: str) -> None:
    for n in range(MESSAGES):
        body = json.dumps({"account_sid": account_sid, "type": "tests.cook", "payload": {"n": n}}).encode()
        await broker.publish(DEAD, "dead.tests.kitchen", body, message_id=str(uuid.uuid4()))
        report = ConsumerFailed(queue="tests.kitchen", failed_message_id=uuid.uuid4(), error=f"burnt {n}",
                                delivery_count=1)
        envelope = make_envelope(CONSUMER_FAILED, report, account_sid="system")
        await broker.publish(DEAD, f"{CONSUMER_FAILED}.tests.kitchen", envelope.to_bytes(),
                             message_id=str(envelope.message_id))


async def test_consumers_of_queues_without_a_delivery_limit_wait_out_a_database_outage_in_a_few_lines(
    settings: Settings, postgres: OwnPostgres, tmp_path: Path
) -> None:
    account_sid, auth_token = new_sid("AC"), new_token()
    settings = settings.model_copy(update={"database_url": postgres.database_url})
    log_path = tmp_path / "webhooks.log"
    output = log_path.open("wb")
    port = free_port()
    process = start_service_process(settings, "webhooks", port=port, output=output, PARLEY_ACCOUNT_SID=account_sid,
                                    PARLEY_AUTH_TOKEN=auth_token)
    broker = Broker(settings)
    away = AwayDatabase(postgres.port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", auth=(account_sid, auth_token),
                                     timeout=10) as client:
            await wait_until_serving(client, "/parley/v1/DeadLetters")
            await broker.connect()
            postgres.crash()
            await away.start()
            before = len(read_lines(log_path))
            await publish_dead_letters_and_failures(broker, account_sid)

            async def tries() -> int:
                return away.connections

            await eventually(tries, until=lambda n: n >= TRIES_TO_SEE, timeout=60, what="the service to retry")
            during = read_lines(log_path)[before:]
            await away.stop()
            postgres.start()

            async def recorded() -> int:
                response = await client.get("/parley/v1/DeadLetters", params={"PageSize": 100})
                return len(response.json()["dead_letters"]) if response.status_code == 200 else -1

            await eventually(recorded, until=lambda n: n == MESSAGES, timeout=60, what="the dead letters recorded")
            conn = await asyncpg.connect(settings.database_url,
                                         server_settings={"search_path": settings.schema_name("webhooks")})
            try:
                await eventually(lambda: conn.fetchval("SELECT count(*) FROM consumer_failures"),
                                 until=lambda n: n == MESSAGES, timeout=60, what="the failure reports recorded")
            finally:
                await conn.close()
        after = read_lines(log_path)[before:]
    finally:
        await away.stop()
        stop_process(process)
        output.close()
        await broker.close()

    report = "\n".join(after[-60:])
    assert not [line for line in during if "Traceback" in line], report
    for queue in QUIET_QUEUES:
        naming = [line for line in during if f"queue {queue} " in line]
        assert len(naming) == 1 and "infrastructure unavailable" in naming[0], report
        assert any(f"queue {queue} resumes" in line for line in after), report
    # Every place that waits says so once: a line per queue and loop, not one per message or per try.
    assert len(during) <= 20, report
