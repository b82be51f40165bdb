"""Work a dispatcher claimed and abandoned (a crash, a lost instance) is taken over once its lease runs out."""

import uuid

import asyncpg
from starlette.responses import Response

from services.webhooks.app import SERVICE as WEBHOOKS
from tests.support.receiver import Receiver
from tests.webhooks.deliveries import delivery_command, delivery_reaching, delivery_sid, publish_delivery


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
                                     server_settings={"search_path": settings.schema("webhooks")})
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
