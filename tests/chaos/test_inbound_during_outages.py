"""The channel edge through outages (issue 15, item 2), on a database and a broker of the test's own.

PostgreSQL down: ingress still checks signatures (against the last provider record it read, long past the cache
TTL) and takes inbound messages and status callbacks, since it is the broker that keeps them; the messages are
stored once, in order, when the database is back. What truly needs the database (a provider never read, the REST
API, a web chat) is answered 503 20503 with `Retry-After`, never 500. The broker unable to confirm: 503 with
`Retry-After`, and the provider's retry of the same message is stored once.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx

from shared.settings import Settings
from tests.conftest import StartParley
from tests.support.own_postgres import OwnPostgres
from tests.support.own_rabbitmq import OwnRabbitMQ
from tests.support.provider import Provider, create_twilio_provider, inbound_form, post_inbound, post_status
from tests.support.waiting import eventually

NUMBER = "+15550005555"
CUSTOMERS = 8
MESSAGES_EACH = 3
CACHE_SECONDS = 0.2  # the provider record's TTL, shrunk: the outage outlasts it many times


def customer(n: int) -> str:
    return f"+1555200{n:04d}"


async def configure(client: httpx.AsyncClient) -> Provider:
    """A provider, and the address configuration that gives each customer a conversation."""
    provider = await create_twilio_provider(client, NUMBER)
    response = await client.post("/conversations/v1/Configuration/Addresses", data={
        "Type": "sms", "Address": NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "default"})
    assert response.status_code == 201, response.text
    return provider


def assert_unavailable(response: httpx.Response) -> None:
    """Twilio's error shape, 20503, and when to come back."""
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit()
    body = response.json()
    assert body == {"code": 20503, "message": body["message"], "more_info": "https://www.twilio.com/docs/errors/20503",
                    "status": 503}


async def stored_bodies(client: httpx.AsyncClient) -> dict[str, list[str]]:
    """Each customer's stored messages, oldest first."""
    stored: dict[str, list[str]] = {}
    conversations = (await client.get("/conversations/v1/Conversations", params={"PageSize": 100})).json()
    for conversation in conversations["conversations"]:
        messages = (await client.get(f"/conversations/v1/Conversations/{conversation['sid']}/Messages",
                                     params={"PageSize": 100})).json()["messages"]
        if messages:
            stored[messages[0]["author"]] = [message["body"] for message in messages]
    return stored


async def test_inbound_messages_are_taken_while_the_database_is_down_and_stored_once_in_order_after(
    postgres: OwnPostgres, launch: StartParley, settings: Settings
) -> None:
    parley = await launch(settings=settings.model_copy(update={
        "database_url": postgres.database_url, "provider_cache_seconds": CACHE_SECONDS}))
    async with parley.client() as client, httpx.AsyncClient(timeout=30) as http:
        provider = await configure(client)
        never_called_back = await create_twilio_provider(client, "+15550005556", auth_token="another-secret-0002")
        # The provider has been calling back: ingress has read its record.
        first = inbound_form(from_address=customer(0), to_address=NUMBER, body="customer 0 message 0")
        assert (await post_inbound(provider, first, client=http)).status_code == 200

        postgres.crash()
        await asyncio.sleep(CACHE_SECONDS * 5)  # the record ingress read is long past its TTL

        async def one_customer(n: int) -> list[int]:
            answers = []
            for index in range(1 if n == 0 else 0, MESSAGES_EACH):
                form = inbound_form(from_address=customer(n), to_address=NUMBER, body=f"customer {n} message {index}")
                answers.append((await post_inbound(provider, form, client=http)).status_code)
            return answers
        answers = await asyncio.gather(*(one_customer(n) for n in range(CUSTOMERS)))
        assert {status for statuses in answers for status in statuses} == {200}

        # A signature is still checked against the record: a forged callback is refused, and takes nothing in.
        forged = inbound_form(from_address=customer(0), to_address=NUMBER, body="forged")
        assert (await post_inbound(provider, forged, auth_token="not-the-token", client=http)).status_code == 403
        # A status callback is kept by the broker too, until its send record takes it.
        assert (await post_status(provider, message_sid="SM" + secrets.token_hex(16), status="delivered")).status_code \
            == 204
        # What truly needs the database: a provider never read, the REST API, a web chat.
        unknown = inbound_form(from_address=customer(0), to_address="+15550005556", body="to a provider never read")
        assert_unavailable(await post_inbound(never_called_back, unknown, client=http))
        assert_unavailable(await client.get("/conversations/v1/Conversations"))
        assert_unavailable(await http.post(f"{parley.base_url}/flex-api/v2/WebChats",
                                           data={"AddressSid": "IG" + secrets.token_hex(16)}))

        postgres.start()

        expected = {customer(n): [f"customer {n} message {index}" for index in range(MESSAGES_EACH)]
                    for n in range(CUSTOMERS)}

        async def all_stored() -> dict[str, list[str]]:
            try:
                return await stored_bodies(client)
            except (httpx.HTTPError, KeyError, ValueError):
                return {}  # the API itself is waiting for its database to come back
        stored = await eventually(all_stored, until=lambda found: sum(map(len, found.values())) >= CUSTOMERS * MESSAGES_EACH,
                                  timeout=120, what="every accepted message stored")
        # The barrier before "nothing more": one more message after the restart, stored after all the others.
        late = inbound_form(from_address=customer(CUSTOMERS), to_address=NUMBER, body="after the restart")
        assert (await post_inbound(provider, late, client=http)).status_code == 200
        stored = await eventually(all_stored, until=lambda found: customer(CUSTOMERS) in found, timeout=60,
                                  what="the message sent after the restart")
    del stored[customer(CUSTOMERS)]
    assert stored == expected  # once each, in order, one conversation per customer, nothing forged


async def test_inbound_message_the_broker_cannot_confirm_is_answered_503_and_its_retry_stored_once(
    rabbitmq: OwnRabbitMQ, launch: StartParley, settings: Settings
) -> None:
    # The broker first among the fixtures, so that it is the last removed: Parley stops while it still runs.
    parley = await launch(settings=settings.model_copy(update={
        "amqp_url": rabbitmq.amqp_url, "inbound_publish_timeout_seconds": 1.0}))
    async with parley.client() as client:
        provider = await configure(client)
        form = inbound_form(from_address=customer(0), to_address=NUMBER, body="while the broker is blocked")

        rabbitmq.refuse_publishes()
        try:
            assert_unavailable(await post_inbound(provider, form))
            assert_unavailable(await post_status(provider, message_sid="SM" + secrets.token_hex(16), status="sent"))
        finally:
            rabbitmq.take_publishes()
        # The provider's retry: the same MessageSid, which the conversation deduplicates with the first publish
        # (held in the blocked connection, it may reach the queue too).
        assert (await post_inbound(provider, form)).status_code == 200
        later = inbound_form(from_address=customer(0), to_address=NUMBER, body="the barrier")
        assert (await post_inbound(provider, later)).status_code == 200

        async def bodies() -> list[Any]:
            return (await stored_bodies(client)).get(customer(0), [])
        stored = await eventually(bodies, until=lambda found: "the barrier" in found, timeout=60,
                                  what="the message after the retry")
        assert stored == ["while the broker is blocked", "the barrier"]

        rabbitmq.stop()  # and with no broker at all: 503 too, never 500
        try:
            assert_unavailable(await post_inbound(provider, inbound_form(
                from_address=customer(0), to_address=NUMBER, body="with the broker gone")))
        finally:
            rabbitmq.start()  # Parley's shutdown waits for its broker (a shutdown without one never ends)
