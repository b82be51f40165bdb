"""A PostgreSQL crash under load, on a cluster of the test's own: what the provider was told was accepted is
stored once, in order, one conversation per customer, delivered to the webhook, and nothing is parked; after
the restart notifications work again.

The poll interval is set far beyond the test's patience (60 s), so a loop that lost its LISTEN for good and
fell back to polling would fail the last step: the webhook of a message sent after the restart.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from shared.settings import Settings
from tests.conftest import StartParley
from tests.support.own_postgres import OwnPostgres
from tests.support.provider import Provider, create_twilio_provider, inbound_form, post_inbound
from tests.support.receiver import Receiver
from tests.support.waiting import eventually

NUMBER = "+15550004444"
CUSTOMERS = 40
MESSAGES_EACH = 3
OUTAGE_SECONDS = 6.0
SLOW_POLL = 60.0


def customer(n: int) -> str:
    return f"+1555100{n:04d}"


async def configure(client: httpx.AsyncClient, receiver: Receiver) -> Provider:
    provider = await create_twilio_provider(client, NUMBER)
    response = await client.post("/conversations/v1/Configuration/Addresses", data={
        "Type": "sms", "Address": NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "webhook",
        "AutoCreation.WebhookUrl": f"{receiver.url}/hook", "AutoCreation.WebhookMethod": "POST",
        "AutoCreation.WebhookFilters": ["onMessageAdded"]})
    assert response.status_code == 201, response.text
    return provider


async def send_all(provider: Provider) -> None:
    """Every customer writes MESSAGES_EACH messages in turn (their order is theirs); customers write at once."""
    async with httpx.AsyncClient(timeout=30) as http:
        async def one_customer(n: int) -> None:
            for index in range(MESSAGES_EACH):
                form = inbound_form(from_address=customer(n), to_address=NUMBER, body=f"customer {n} message {index}")
                answer = await post_inbound(provider, form, client=http)
                assert answer.status_code == 200, answer.text
        await asyncio.gather(*(one_customer(n) for n in range(CUSTOMERS)))


async def test_a_database_crash_loses_parks_and_duplicates_nothing_and_notifications_come_back(
    launch: StartParley, settings: Settings, postgres: OwnPostgres, receiver: Receiver
) -> None:
    parley = await launch(settings=settings.model_copy(update={
        "database_url": postgres.database_url, "poll_interval_seconds": SLOW_POLL}))
    async with parley.client() as client:
        provider = await configure(client, receiver)
        await send_all(provider)  # accepted: from here on they are the broker's to keep

        postgres.crash()  # while the consumers, relays and dispatchers still work through them
        await asyncio.sleep(OUTAGE_SECONDS)
        postgres.start()

        total = CUSTOMERS * MESSAGES_EACH

        async def bodies_delivered_so_far() -> int:
            return len({request.field("Body") for request in receiver.requests})

        # Distinct bodies: a delivery may be repeated (with its token), which must not stand for a missing one.
        await eventually(bodies_delivered_so_far, until=lambda n: n >= total, timeout=120, what="every webhook")
        delivered = list(receiver.requests)
        # The barrier, and the proof that notifications are back: one more message after the restart gets
        # its webhook far sooner than the poll interval.
        late = inbound_form(from_address=customer(CUSTOMERS), to_address=NUMBER, body="after the restart")
        assert (await post_inbound(provider, late)).status_code == 200
        await receiver.wait_for(1, timeout=30, where=lambda request: request.field("Body") == "after the restart")

        conversations = (await client.get("/conversations/v1/Conversations", params={"PageSize": 100})).json()
        parked = (await client.get("/parley/v1/DeadLetters", params={"PageSize": 100})).json()["dead_letters"]
        stored: dict[str, list[str]] = {}
        for conversation in conversations["conversations"]:
            messages = (await client.get(f"/conversations/v1/Conversations/{conversation['sid']}/Messages",
                                         params={"PageSize": 100})).json()["messages"]
            stored[conversation["sid"]] = [message["body"] for message in messages]

    assert parked == []
    assert len(stored) == CUSTOMERS + 1  # one conversation per customer
    for bodies in stored.values():
        if bodies != ["after the restart"]:
            n = bodies[0].split()[1]
            assert bodies == [f"customer {n} message {index}" for index in range(MESSAGES_EACH)]  # once, in order
    bodies_delivered = Counter(request.field("Body") for request in delivered)
    assert len(bodies_delivered) == total  # every message's webhook; a repeat would carry the same token
    repeated = [request for request in receiver.requests if bodies_delivered[request.field("Body")] > 1]
    tokens = Counter((request.field("Body"), request.headers.get("i-twilio-idempotency-token")) for request in repeated)
    assert len(tokens) == len({body for body, _ in tokens}), "a repeated delivery carried another token"
