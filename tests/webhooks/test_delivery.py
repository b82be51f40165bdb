"""A delivery command becomes a signed request to the business's URL, retried as Twilio would, and logged."""

import time
from urllib.parse import parse_qsl, urlsplit

from starlette.responses import Response
from twilio.request_validator import RequestValidator

from services.webhooks.app import SERVICE as WEBHOOKS
from shared.settings import Settings
from tests.support.receiver import ReceivedRequest, Receiver
from tests.webhooks.deliveries import (
    FormParams,
    dead_letters,
    delivery_command,
    delivery_reaching,
    delivery_sid,
    publish_delivery,
)


async def test_post_delivery_arrives_signed_so_twilio_validator_accepts_it(launch, receiver: Receiver) -> None:
    parley = await launch([WEBHOOKS])
    params = [("EventType", "onMessageAdded"), ("Body", "Hi there & welcome"), ("Index", "0"), ("Media", "a"),
              ("Media", "b")]
    envelope = await publish_delivery(parley, delivery_command(f"{receiver.url}/hook?tenant=7", params=params))
    [request] = await receiver.wait_for(1)
    token = parley.account.auth_token
    assert request.method == "POST"
    assert request.params == params
    assert request.has_valid_signature(token)
    assert RequestValidator(token).validate(request.url, FormParams(request.params), request.headers["x-twilio-signature"])
    assert not request.has_valid_signature("0" * 32)
    assert request.headers["i-twilio-idempotency-token"] == delivery_sid(envelope)
    async with parley.client() as client:
        delivered = await delivery_reaching(client, delivery_sid(envelope), "delivered")
    assert [attempt["response_code"] for attempt in delivered["attempts"]] == [200]
    assert delivered["url"] == f"{receiver.url}/hook?tenant=7"
    assert delivered["params"] == [list(pair) for pair in params]


async def test_get_delivery_carries_params_in_the_query_and_signs_the_full_url(launch, receiver: Receiver) -> None:
    parley = await launch([WEBHOOKS])
    params = [("EventType", "onConversationAdded"), ("FriendlyName", "Café / 24 hours & more")]
    await publish_delivery(parley, delivery_command(f"{receiver.url}/get-hook", params=params, method="GET"))
    [request] = await receiver.wait_for(1)
    assert request.method == "GET"
    assert parse_qsl(urlsplit(request.url).query) == params
    assert request.body == b""
    assert request.has_valid_signature(parley.account.auth_token)
    assert RequestValidator(parley.account.auth_token).validate(request.url, {}, request.headers["x-twilio-signature"])


async def test_server_errors_are_retried_until_delivered_and_every_attempt_is_logged(launch, receiver: Receiver) -> None:
    parley = await launch([WEBHOOKS])
    receiver.responses = [500, 500]
    envelope = await publish_delivery(parley, delivery_command(f"{receiver.url}/hook"))
    await receiver.wait_for(1)
    async with parley.client() as client:
        delivered = await delivery_reaching(client, delivery_sid(envelope), "delivered")
    assert len(receiver.attempts) == 3
    assert [attempt["attempt"] for attempt in delivered["attempts"]] == [1, 2, 3]
    assert [attempt["response_code"] for attempt in delivered["attempts"]] == [500, 500, 200]
    assert [attempt["error"] for attempt in delivered["attempts"]] == ["HTTP 500", "HTTP 500", None]
    assert all(attempt["latency_ms"] >= 0 and attempt["date_attempted"].endswith("Z")
               for attempt in delivered["attempts"])
    assert delivered["error"] is None and delivered["date_next_attempt"] is None


async def test_client_error_fails_at_once_and_is_parked_as_a_dead_letter(launch, receiver: Receiver) -> None:
    parley = await launch([WEBHOOKS])
    receiver.responses = [404]
    envelope = await publish_delivery(parley, delivery_command(f"{receiver.url}/gone"))
    async with parley.client() as client:
        failed = await delivery_reaching(client, delivery_sid(envelope), "failed")
        parked = await dead_letters(client)
    assert [attempt["response_code"] for attempt in failed["attempts"]] == [404]
    assert failed["error"] == "HTTP 404"
    assert len(receiver.attempts) == 1
    [dead] = parked
    assert dead["webhook_delivery_sid"] == delivery_sid(envelope)
    assert dead["reason"] == "rejected" and dead["error"] == "HTTP 404" and dead["status"] == "parked"
    assert dead["payload"]["url"] == f"{receiver.url}/gone"


async def test_too_many_requests_waits_at_least_what_retry_after_asks(launch, receiver: Receiver) -> None:
    parley = await launch([WEBHOOKS])
    seen: list[float] = []

    def throttle_once(_: ReceivedRequest) -> Response | None:
        seen.append(time.monotonic())
        return Response(status_code=429, headers={"Retry-After": "1"}) if len(seen) == 1 else None

    receiver.responder = throttle_once
    envelope = await publish_delivery(parley, delivery_command(f"{receiver.url}/hook"))
    async with parley.client() as client:
        delivered = await delivery_reaching(client, delivery_sid(envelope), "delivered")
    assert [attempt["response_code"] for attempt in delivered["attempts"]] == [429, 200]
    # The test budget caps backoff at 0.5 s; only Retry-After explains a wait of a second.
    assert seen[1] - seen[0] >= 0.95


async def test_a_redelivered_command_is_delivered_once(launch, receiver: Receiver) -> None:
    parley = await launch([WEBHOOKS])
    url = f"{receiver.url}/hook"
    command = delivery_command(url, ordering_key="CH" + "1" * 32, params=[("Body", "first")])
    envelope = await publish_delivery(parley, command)
    await parley.runtime.broker.publish("parley.commands", "webhook.deliver", envelope.to_bytes(),
                                        message_id=str(envelope.message_id))
    # Same key and URL: had the duplicate been stored, it would have arrived before this one.
    await publish_delivery(parley, delivery_command(url, ordering_key="CH" + "1" * 32, params=[("Body", "after")]))
    await receiver.wait_for(1, where=lambda request: request.field("Body") == "after")
    assert [request.field("Body") for request in receiver.requests] == ["first", "after"]
    async with parley.client() as client:
        listed = (await client.get("/parley/v1/WebhookDeliveries", params={"Url": url})).json()["webhook_deliveries"]
    assert len(listed) == 2
    assert listed[0]["sid"] == delivery_sid(envelope)


async def test_egress_refusal_fails_the_delivery_without_sending_anything(
    launch, settings: Settings, receiver: Receiver
) -> None:
    # Public addresses only (the production default): 127.0.0.1 is refused.
    parley = await launch([WEBHOOKS], settings=settings.model_copy(update={"egress_networks": []}))
    envelope = await publish_delivery(parley, delivery_command(f"{receiver.url}/hook"))
    async with parley.client() as client:
        failed = await delivery_reaching(client, delivery_sid(envelope), "failed")
        [dead] = await dead_letters(client)
    [attempt] = failed["attempts"]
    assert attempt["response_code"] is None
    assert "egress" in attempt["error"] and "127.0.0.1" in attempt["error"]
    assert receiver.attempts == []
    assert dead["reason"] == "rejected" and "egress" in dead["error"]


async def test_unreachable_endpoint_is_retried_with_the_network_error_logged(launch, receiver: Receiver) -> None:
    parley = await launch([WEBHOOKS])
    await receiver.stop()
    envelope = await publish_delivery(parley, delivery_command(f"{receiver.url}/hook"))
    async with parley.client() as client:
        failed = await delivery_reaching(client, delivery_sid(envelope), "failed")
    attempts = failed["attempts"]
    assert len(attempts) == parley.settings.webhook_max_attempts
    assert all(attempt["response_code"] is None and "ConnectError" in attempt["error"] for attempt in attempts)
    assert failed["error"].startswith(f"gave up after {parley.settings.webhook_max_attempts} attempts")
