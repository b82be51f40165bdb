"""Acceptance of the webhooks service through the whole of Parley: a provider posts SMS to ingress,
conversations threads them and decides the targets, the webhooks service delivers."""

import asyncio
from typing import Any

import httpx
import pytest
from starlette.responses import Response
from twilio.request_validator import RequestValidator

from services.conversations.app import SERVICE as CONVERSATIONS
from shared.settings import Settings
from tests.support.infrastructure import Infrastructure
from tests.support.parley import RunningParley, remove_isolated_names
from tests.support.parley import test_settings as isolated_settings
from tests.support.provider import Provider, create_twilio_provider, inbound_form, post_inbound
from tests.support.receiver import ReceivedRequest, Receiver
from tests.support.waiting import eventually
from tests.webhooks.deliveries import FormParams

PARLEY_NUMBER = "+15550003333"
CUSTOMER = "+15557650002"
V1 = "/conversations/v1"


async def auto_creating_number(client: httpx.AsyncClient, url: str, filters: list[str], *,
                               service_sid: str | None = None) -> Provider:
    provider = await create_twilio_provider(client, PARLEY_NUMBER)
    form = {
        "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "webhook",
        "AutoCreation.WebhookUrl": url, "AutoCreation.WebhookMethod": "POST", "AutoCreation.WebhookFilters": filters,
    }
    if service_sid:
        form["AutoCreation.ConversationServiceSid"] = service_sid
    response = await client.post(f"{V1}/Configuration/Addresses", data=form)
    assert response.status_code == 201, response.text
    return provider


async def send(provider: Provider, body: str, client: httpx.AsyncClient | None = None) -> None:
    response = await post_inbound(provider, inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body=body),
                                  client=client)
    assert response.status_code == 200, response.text


async def stored_messages(client: httpx.AsyncClient, count: int, *, service_sid: str | None = None) -> list[dict[str, Any]]:
    prefix = f"{V1}/Services/{service_sid}" if service_sid else V1

    async def probe() -> list[dict[str, Any]]:
        conversations = (await client.get(f"{prefix}/Conversations")).json()["conversations"]
        if not conversations:
            return []
        response = await client.get(f"{prefix}/Conversations/{conversations[0]['sid']}/Messages",
                                    params={"PageSize": 1000})
        return list(response.json()["messages"])

    return await eventually(probe, until=lambda messages: len(messages) >= count, what=f"{count} stored messages")


def signed(parley: RunningParley, request: ReceivedRequest) -> bool:
    validator = RequestValidator(parley.account.auth_token)
    return bool(validator.validate(request.url, FormParams(request.params), request.headers["x-twilio-signature"]))


async def test_a_hundred_messages_arrive_in_index_order_even_across_retries(
    parley: RunningParley, receiver: Receiver
) -> None:
    failing = {str(n): 2 if n % 10 == 3 else 1 for n in range(0, 100, 7)}  # some first attempts fail, some twice

    def fail_some_first_attempts(request: ReceivedRequest) -> Response | None:
        index = request.field("Index") or ""
        if failing.get(index, 0) > 0:
            failing[index] -= 1
            return Response(status_code=503)
        return None

    receiver.responder = fail_some_first_attempts
    async with parley.client() as client:
        provider = await auto_creating_number(client, f"{receiver.url}/hook", ["onMessageAdded"])
        async with httpx.AsyncClient(timeout=30) as provider_client:
            await asyncio.gather(*(send(provider, f"message {n}", provider_client) for n in range(100)))
        delivered = await receiver.wait_for(100, timeout=120)
        stored = await stored_messages(client, 100)
    assert [request.field("Index") for request in delivered] == [str(n) for n in range(100)]
    assert [request.field("Body") for request in delivered] == [message["body"] for message in stored]
    assert sorted(message["body"] for message in stored) == sorted(f"message {n}" for n in range(100))
    assert len(receiver.attempts) == 100 + sum(2 if n % 10 == 3 else 1 for n in range(0, 100, 7))


async def test_a_receiver_down_for_a_while_gets_every_event_once_in_order_when_it_is_back(
    launch, settings: Settings, receiver: Receiver
) -> None:
    """Down for 6 s with a tenth of the production backoff base: the same share of the retry budget as 60 s.

    With the production budget (8 attempts, backoff base 1 s doubling, jitter in the upper half) the first
    undelivered event is retried for at least 0.5 * (1 + 2 + … + 64) = 63.5 s, so a receiver down for 60 s
    loses nothing; here the base is 0.1 s, the budget at least 6.35 s, and the receiver is down for 6 s.
    """
    parley = await launch(settings=settings.model_copy(update={
        "webhook_max_attempts": 8, "webhook_backoff_base_seconds": 0.1, "webhook_backoff_max_seconds": 30.0,
    }))
    async with parley.client() as client:
        provider = await auto_creating_number(client, f"{receiver.url}/hook", ["onMessageAdded"])
        for n in range(5):
            await send(provider, f"before {n}")
        await receiver.wait_for(5)
        await receiver.stop()
        down = asyncio.get_running_loop().time()
        for n in range(10):
            await send(provider, f"while down {n}")
        await stored_messages(client, 15)
        await asyncio.sleep(max(0.0, 6.0 - (asyncio.get_running_loop().time() - down)))  # the outage itself
        await receiver.start()
        delivered = await receiver.wait_for(15, timeout=60)
        await asyncio.sleep(0.5)  # nothing more should come: no duplicates
    assert [request.field("Index") for request in receiver.requests] == [str(n) for n in range(15)]
    assert [request.field("Body") for request in delivered] == (
        [f"before {n}" for n in range(5)] + [f"while down {n}" for n in range(10)])
    tokens = [request.headers["i-twilio-idempotency-token"] for request in receiver.attempts]
    assert len(tokens) == len(set(tokens)) == 15


async def test_each_target_gets_exactly_the_events_its_filters_select(parley: RunningParley, receiver: Receiver) -> None:
    async with parley.client() as client:
        service = (await client.post(f"{V1}/Services", data={"FriendlyName": "Support"})).json()["sid"]
        response = await client.post(f"{V1}/Configuration/Webhooks", data={
            "PostWebhookUrl": f"{receiver.url}/account", "Filters": ["onConversationAdded", "onMessageAdded"],
            "Method": "POST", "Target": "webhook",
        })
        assert response.status_code == 200, response.text
        response = await client.post(f"{V1}/Services/{service}/Configuration/Webhooks", data={
            "PostWebhookUrl": f"{receiver.url}/service", "Filters": ["onParticipantAdded"], "Method": "POST",
        })
        assert response.status_code == 200, response.text
        provider = await auto_creating_number(client, f"{receiver.url}/address",
                                              ["onMessageAdded", "onConversationUpdated"], service_sid=service)
        await send(provider, "hello")
        await receiver.wait_for(1, where=lambda r: r.path == "/address")
        conversation = (await client.get(f"{V1}/Services/{service}/Conversations")).json()["conversations"][0]["sid"]
        hooks = f"{V1}/Services/{service}/Conversations/{conversation}/Webhooks"
        scoped = (await client.post(hooks, data={
            "Target": "webhook", "Configuration.Url": f"{receiver.url}/scoped",
            "Configuration.Filters": ["onMessageAdded"], "Configuration.Method": "POST",
        })).json()["sid"]
        trigger = (await client.post(hooks, data={
            "Target": "trigger", "Configuration.Url": f"{receiver.url}/trigger", "Configuration.Triggers": ["urgent"],
            "Configuration.Method": "POST",
        })).json()["sid"]
        # A REST action fires no webhook without X-Twilio-Webhook-Enabled (TWILIO-NOTES §1.3).
        await client.post(f"{V1}/Services/{service}/Conversations/{conversation}", data={"FriendlyName": "quiet"})
        await send(provider, "this is URGENT")
        await send(provider, "plain")
        expected = {"/account": 4, "/service": 1, "/address": 3, "/scoped": 2, "/trigger": 1}
        await receiver.wait_for(sum(expected.values()))
        deliveries = await eventually(
            lambda: client.get("/parley/v1/WebhookDeliveries", params={"PageSize": 100}),
            until=lambda response: all(d["status"] == "delivered" for d in response.json()["webhook_deliveries"]),
        )
    assert len(deliveries.json()["webhook_deliveries"]) == sum(expected.values())  # nothing more was sent

    def seen(path: str) -> list[tuple[str | None, str | None]]:
        return [(r.field("EventType"), r.field("Body")) for r in receiver.requests if r.path == path]

    assert seen("/account") == [("onConversationAdded", None), ("onMessageAdded", "hello"),
                                ("onMessageAdded", "this is URGENT"), ("onMessageAdded", "plain")]
    assert seen("/service") == [("onParticipantAdded", None)]
    assert seen("/address") == [("onMessageAdded", "hello"), ("onMessageAdded", "this is URGENT"),
                                ("onMessageAdded", "plain")]
    assert seen("/scoped") == [("onMessageAdded", "this is URGENT"), ("onMessageAdded", "plain")]
    assert seen("/trigger") == [("onMessageAdded", "this is URGENT")]
    assert all(signed(parley, request) for request in receiver.requests)

    def one(path: str, event: str) -> ReceivedRequest:
        return next(r for r in receiver.requests if r.path == path and r.field("EventType") == event)

    common = {"AccountSid": parley.account.sid, "Source": "SMS"}
    added = one("/account", "onConversationAdded")
    assert {name: added.field(name) for name in common} == common
    assert added.field("ConversationSid") == conversation and added.field("ChatServiceSid") == service
    assert added.field("State") == "active"
    assert (added.field("MessagingBinding.Address"), added.field("MessagingBinding.ProxyAddress")) == (
        CUSTOMER, PARLEY_NUMBER)
    assert all(added.field(name) for name in ("DateCreated", "DateUpdated", "Attributes"))
    participant = one("/service", "onParticipantAdded")
    assert participant.field("ParticipantSid").startswith("MB")
    assert participant.field("MessagingBinding.Type") == "SMS"
    assert participant.field("MessagingBinding.Address") == CUSTOMER and participant.field("Identity") is None
    message = one("/address", "onMessageAdded")
    assert message.field("MessageSid").startswith("IM") and message.field("Index") == "0"
    assert message.field("Author") == CUSTOMER and message.field("ParticipantSid") == participant.field("ParticipantSid")
    assert {name: message.field(name) for name in common} == common
    assert message.field("WebhookSid") is None  # the address's own hook is not a scoped webhook resource
    on_scoped = one("/scoped", "onMessageAdded")
    assert (on_scoped.field("WebhookSid"), on_scoped.field("WebhookType"), on_scoped.field("RetryCount")) == (
        scoped, "webhook", "0")
    assert one("/trigger", "onMessageAdded").field("WebhookSid") == trigger


@pytest.fixture
async def public_only(infra: Infrastructure):
    """Settings with PARLEY_EGRESS_NETWORKS at its default: public addresses only."""
    settings = isolated_settings(infra, PARLEY_EGRESS_NETWORKS=[])
    yield settings
    await remove_isolated_names(settings)


async def test_local_urls_are_refused_at_configuration_time_by_default(
    launch, public_only: Settings, receiver: Receiver
) -> None:
    parley = await launch([CONVERSATIONS], settings=public_only)
    local = f"http://localhost:{receiver.port}/hook"
    async with parley.client() as client:
        conversation = (await client.post(f"{V1}/Conversations")).json()["sid"]
        service = (await client.post(f"{V1}/Services", data={"FriendlyName": "S"})).json()["sid"]
        attempts = [
            await client.post(f"{V1}/Configuration/Webhooks", data={"PostWebhookUrl": local}),
            await client.post(f"{V1}/Configuration/Webhooks", data={"PreWebhookUrl": local}),
            await client.post(f"{V1}/Services/{service}/Configuration/Webhooks", data={"PostWebhookUrl": local}),
            await client.post(f"{V1}/Configuration/Addresses", data={
                "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "webhook",
                "AutoCreation.WebhookUrl": local}),
            await client.post(f"{V1}/Conversations/{conversation}/Webhooks", data={
                "Target": "webhook", "Configuration.Url": local}),
            await client.post(f"{V1}/Configuration/Webhooks", data={"PostWebhookUrl": "http://[::1]/hook"}),
            await client.post(f"{V1}/Configuration/Webhooks", data={"PostWebhookUrl": "http://169.254.169.254/x"}),
        ]
        config = (await client.get(f"{V1}/Configuration/Webhooks")).json()
    assert [response.status_code for response in attempts] == [400] * len(attempts)
    assert all(set(response.json()) >= {"code", "message", "status"} for response in attempts)
    assert config["post_webhook_url"] is None and config["pre_webhook_url"] is None
    assert receiver.attempts == []  # refusing sends nothing
