"""Leases: abandoned work is taken over when its lease runs out, a replica killed mid-attempt within a lease
while the live owner keeps its own however long the attempt takes; a replay during an attempt waits for it to end."""

import uuid
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from starlette.responses import Response

from services.webhooks.app import SERVICE as WEBHOOKS
from shared.broker.connection import Broker
from shared.broker.topology import COMMANDS
from shared.contracts.envelope import make_envelope
from shared.contracts.webhooks import DELIVER_WEBHOOK
from shared.runtime import free_port
from shared.settings import Settings
from shared.sids import new_sid, new_token
from tests.support.processes import read_lines, start_service_process, stop_process, wait_until_serving
from tests.support.receiver import Receiver
from tests.support.waiting import eventually
from tests.webhooks.deliveries import (
    delivery_command,
    delivery_reaching,
    delivery_sid,
    fetch_delivery,
    publish_delivery,
)
from tests.webhooks.gated_receiver import GatedReceiver, HangingReceiver

TOKEN = "i-twilio-idempotency-token"


async def test_delivery_held_by_a_vanished_dispatcher_is_delivered_when_its_lease_runs_out(
    launch, receiver: Receiver
) -> None:
    parley = await launch([WEBHOOKS])
    settings = parley.settings
    url = f"{receiver.url}/hook"
    # Told to come back in half an hour, the delivery waits; then a vanished instance "claims" it for a second.
    come_back_later = Response(status_code=429, headers={"Retry-After": "1800"})
    receiver.responder = lambda _: come_back_later if len(receiver.attempts) == 1 else None
    envelope = await publish_delivery(parley, delivery_command(url))
    async with parley.client() as client:
        await delivery_reaching(client, delivery_sid(envelope), "retrying")
        conn = await asyncpg.connect(settings.database_url,
                                     server_settings={"search_path": settings.schema_name("webhooks")})
        try:
            held = await conn.execute(
                "UPDATE deliveries SET lease_token = $2, lease_until = now() + interval '1 second', "
                "next_attempt_at = now() WHERE sid = $1 AND status = 'retrying'",
                delivery_sid(envelope), uuid.uuid4(),
            )
        finally:
            await conn.close()
        assert held == "UPDATE 1"
        delivered = await delivery_reaching(client, delivery_sid(envelope), "delivered")
    assert [attempt["response_code"] for attempt in delivered["attempts"]] == [429, 200]
    assert len(receiver.requests) == 1


async def test_replay_asked_for_during_an_attempt_sends_the_delivery_again_after_it(
    launch, settings: Settings
) -> None:
    parley = await launch([WEBHOOKS], settings=settings.model_copy(update={"webhook_timeout_seconds": 30}))
    endpoint = GatedReceiver()
    await endpoint.start()
    try:
        envelope = await publish_delivery(parley, delivery_command(f"{endpoint.url}/hook"))

        async def held() -> int:
            return endpoint.waiting

        await eventually(held, until=lambda waiting: waiting == 1, what="the first attempt to be in flight")
        async with parley.client() as client:
            replay = await client.post(f"/parley/v1/WebhookDeliveries/{delivery_sid(envelope)}/Replay")
            assert replay.status_code == 200 and replay.json()["status"] == "pending"
            endpoint.gate.set()
            await endpoint.wait_for(2)
            delivered = await delivery_reaching(client, delivery_sid(envelope), "delivered")
        assert [attempt["response_code"] for attempt in delivered["attempts"]] == [200, 200]
        assert len(endpoint.attempts) == 2
    finally:
        endpoint.gate.set()
        await endpoint.stop()


async def test_a_replica_killed_mid_attempt_is_taken_over_within_a_lease_and_the_repeat_carries_the_same_token(
    launch, settings: Settings, tmp_path: Path
) -> None:
    lease = 1.0
    account_sid, auth_token = new_sid("AC"), new_token()
    # The attempt may hang far longer than a lease: only the owner's death may hand it over.
    settings = settings.model_copy(update={"webhook_lease_seconds": lease, "webhook_timeout_seconds": 60.0,
                                           "dev_account_sid": account_sid, "dev_auth_token": auth_token})
    endpoint = HangingReceiver(hangs=1)
    await endpoint.start()
    broker = Broker(settings)
    port = free_port()
    output = (tmp_path / "victim.log").open("wb")
    victim = start_service_process(settings, "webhooks", port=port, output=output,
                                   PARLEY_ACCOUNT_SID=account_sid, PARLEY_AUTH_TOKEN=auth_token,
                                   PARLEY_WEBHOOK_LEASE=str(lease), PARLEY_WEBHOOK_TIMEOUT="60",
                                   PARLEY_POLL_INTERVAL=str(settings.poll_interval_seconds))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", auth=(account_sid, auth_token),
                                     timeout=10) as client:
            await wait_until_serving(client, "/parley/v1/WebhookDeliveries")
            await broker.connect()
            envelope = make_envelope(DELIVER_WEBHOOK, delivery_command(f"{endpoint.url}/hook"), account_sid=account_sid)
            await broker.publish(COMMANDS, DELIVER_WEBHOOK, envelope.to_bytes(), message_id=str(envelope.message_id))
            sid = delivery_sid(envelope)
            await eventually(lambda: _count(endpoint), until=lambda n: n == 1, what="the victim's request to hang")
            in_flight = await fetch_delivery(client, sid)
        assert [attempt["status"] for attempt in in_flight["attempts"]] == ["in_flight"]

        survivor = await launch([WEBHOOKS], settings=settings)
        # The barrier: the victim's heartbeat holds the lease several lease periods past its first expiry,
        # while the survivor looks for due work every poll.
        first_expiry = await _lease_until(settings, sid)
        await eventually(lambda: _lease_until(settings, sid), until=lambda until: until > first_expiry + 3 * timedelta(
            seconds=lease), timeout=30, what="the victim to renew its lease")
        assert len(endpoint.attempts) == 1, "the survivor took over a delivery its live owner held"

        stop_process(victim)  # kill -9, mid-attempt
        async with survivor.client() as client:
            delivered = await delivery_reaching(client, sid, "delivered")
    finally:
        stop_process(victim)
        output.close()
        await broker.close()
        await endpoint.stop()

    first, repeat = endpoint.attempts
    assert first.headers[TOKEN] == repeat.headers[TOKEN] == sid, read_lines(tmp_path / "victim.log")[-20:]
    assert [(attempt["attempt"], attempt["status"], attempt["response_code"]) for attempt in delivered["attempts"]] == [
        (1, "unknown", None), (2, "completed", 200)]
    assert delivered["attempt_count"] == 2


async def _count(endpoint: Receiver) -> int:
    return len(endpoint.attempts)


async def _lease_until(settings: Settings, sid: str) -> datetime:
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": settings.schema_name("webhooks")})
    try:
        until: datetime = await conn.fetchval("SELECT lease_until FROM deliveries WHERE sid = $1", sid)
    finally:
        await conn.close()
    return until
