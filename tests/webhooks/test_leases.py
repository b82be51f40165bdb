"""Leases: abandoned work is taken over when its lease runs out; a replay during an attempt waits for it to end."""

import uuid

import asyncpg
from starlette.responses import Response

from services.webhooks.app import SERVICE as WEBHOOKS
from shared.settings import Settings
from tests.support.receiver import Receiver
from tests.support.waiting import eventually
from tests.webhooks.deliveries import delivery_command, delivery_reaching, delivery_sid, publish_delivery
from tests.webhooks.gated_receiver import GatedReceiver


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
