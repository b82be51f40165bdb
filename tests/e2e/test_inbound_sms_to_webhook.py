"""The walking skeleton: a provider's signed inbound SMS becomes an auto-created conversation and signed webhooks."""

import asyncio

import httpx
from twilio.request_validator import RequestValidator

from services.catalog import ALL_SERVICES
from services.conversations.app import SERVICE as CONVERSATIONS
from shared.runtime import free_port
from tests.support.parley import RunningParley
from tests.support.provider import Provider, create_twilio_provider, inbound_form, post_inbound
from tests.support.receiver import Receiver
from tests.support.waiting import eventually

PARLEY_NUMBER = "+15550001111"
CUSTOMER = "+15557654321"
ALL_EVENTS = ["onConversationAdded", "onParticipantAdded", "onMessageAdded"]


async def configure(client: httpx.AsyncClient, receiver: Receiver, filters: list[str] = ALL_EVENTS) -> Provider:
    provider = await create_twilio_provider(client, PARLEY_NUMBER)
    response = await client.post("/conversations/v1/Configuration/Addresses", data={
        "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "webhook",
        "AutoCreation.WebhookUrl": f"{receiver.url}/hook", "AutoCreation.WebhookMethod": "POST",
        "AutoCreation.WebhookFilters": filters,
    })
    assert response.status_code == 201, response.text
    return provider


async def conversations_of(client: httpx.AsyncClient) -> list[dict]:
    return (await client.get("/conversations/v1/Conversations", params={"PageSize": 100})).json()["conversations"]


async def test_signed_inbound_sms_produces_signed_webhooks_in_order(parley: RunningParley, receiver: Receiver) -> None:
    async with parley.client() as client:
        provider = await configure(client, receiver)
        response = await post_inbound(provider, inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body="Hi!"))
        assert response.status_code == 200
        assert "<Response" in response.text
        delivered = await receiver.wait_for(3)
    assert [request.field("EventType") for request in delivered] == ALL_EVENTS
    validator = RequestValidator(parley.account.auth_token)
    for request in delivered:
        multi = {key: value for key, value in request.params}
        assert validator.validate(request.url, multi, request.headers["x-twilio-signature"])
        assert request.has_valid_signature(parley.account.auth_token)
    message = delivered[2]
    assert message.field("Body") == "Hi!"
    assert message.field("Author") == CUSTOMER
    assert message.field("Index") == "0"
    assert message.field("Source") == "SMS"
    assert message.field("AccountSid") == parley.account.sid
    assert delivered[1].field("MessagingBinding.Address") == CUSTOMER
    assert delivered[1].field("MessagingBinding.ProxyAddress") == PARLEY_NUMBER


async def test_filters_select_which_events_are_delivered(parley: RunningParley, receiver: Receiver) -> None:
    async with parley.client() as client:
        provider = await configure(client, receiver, filters=["onMessageAdded"])
        for n in range(2):
            await post_inbound(provider, inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body=f"m{n}"))
        delivered = await receiver.wait_for(2)
    assert {request.field("EventType") for request in delivered} == {"onMessageAdded"}
    assert [request.field("Body") for request in delivered] == ["m0", "m1"]


async def test_provider_retrying_one_message_sid_stores_one_message(parley: RunningParley, receiver: Receiver) -> None:
    async with parley.client() as client:
        provider = await configure(client, receiver, filters=["onMessageAdded"])
        form = inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body="only once")
        for _ in range(3):
            assert (await post_inbound(provider, form)).status_code == 200
        await post_inbound(provider, inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body="after"))
        await receiver.wait_for(1, where=lambda request: request.field("Body") == "after")
        conversation = (await conversations_of(client))[0]
        messages = (await client.get(f"/conversations/v1/Conversations/{conversation['sid']}/Messages")).json()["messages"]
    assert [message["body"] for message in messages] == ["only once", "after"]
    assert len([request for request in receiver.requests if request.field("Body") == "only once"]) == 1


async def test_bad_signature_is_refused_and_nothing_is_stored(parley: RunningParley, receiver: Receiver) -> None:
    async with parley.client() as client:
        provider = await configure(client, receiver)
        forged = await post_inbound(provider, inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body="x"),
                                    auth_token="not-the-provider-secret")
        assert forged.status_code == 403
        malformed = await post_inbound(provider, {"Body": "no addresses"})
        assert malformed.status_code == 400
        assert set(malformed.json()) >= {"code", "message", "more_info", "status"}
        # A good message afterwards is the first thing that happens.
        await post_inbound(provider, inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body="real"))
        await receiver.wait_for(3)
        conversation = (await conversations_of(client))[0]
        messages = (await client.get(f"/conversations/v1/Conversations/{conversation['sid']}/Messages")).json()["messages"]
    assert [message["body"] for message in messages] == ["real"]


async def test_rest_api_authentication_and_account_isolation(parley: RunningParley, receiver: Receiver) -> None:
    async with parley.client() as client:
        provider = await configure(client, receiver)
        await post_inbound(provider, inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body="mine"))
        await receiver.wait_for(3)
        conversation_sid = (await conversations_of(client))[0]["sid"]
        other = (await client.post("/api/2010-04-01/Accounts.json", data={"FriendlyName": "Other team"})).json()
    async with httpx.AsyncClient(base_url=parley.base_url) as anonymous:
        unknown = await anonymous.get("/conversations/v1/Conversations", auth=("AC" + "f" * 32, "x" * 32))
        wrong = await anonymous.get("/conversations/v1/Conversations", auth=(parley.account.sid, "0" * 32))
        missing = await anonymous.get("/conversations/v1/Conversations")
        foreign = await anonymous.get(f"/conversations/v1/Conversations/{conversation_sid}",
                                      auth=(other["sid"], other["auth_token"]))
        foreign_list = await anonymous.get("/conversations/v1/Conversations", auth=(other["sid"], other["auth_token"]))
    assert [unknown.status_code, wrong.status_code, missing.status_code] == [401, 401, 401]
    assert unknown.json()["code"] == 20003
    assert foreign.status_code == 404 and foreign.json()["code"] == 20404
    assert foreign_list.json()["conversations"] == []


async def test_messages_accepted_while_conversations_is_down_are_all_stored_once(launch, receiver: Receiver) -> None:
    everything = await launch()
    async with everything.client() as client:
        provider = await configure(client, receiver, filters=["onMessageAdded"])
    await everything.stop()

    without_conversations = await launch([service for service in ALL_SERVICES if service is not CONVERSATIONS])
    async with httpx.AsyncClient(timeout=30) as provider_client:
        responses = await asyncio.gather(*(
            post_inbound(provider, inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body=f"while down {n}"),
                         client=provider_client)
            for n in range(100)
        ))
    assert [response.status_code for response in responses] == [200] * 100
    assert receiver.requests == []

    conversations = await launch([CONVERSATIONS], port=free_port())
    delivered = await receiver.wait_for(100, timeout=60)
    async with conversations.client(without_conversations.account) as client:
        conversation = (await conversations_of(client))[0]
        messages = await eventually(
            lambda: client.get(f"/conversations/v1/Conversations/{conversation['sid']}/Messages", params={"PageSize": 100}),
            until=lambda response: len(response.json()["messages"]) == 100,
        )
    stored = messages.json()["messages"]
    assert sorted(message["body"] for message in stored) == sorted(f"while down {n}" for n in range(100))
    assert [message["index"] for message in stored] == list(range(100))
    assert sorted(request.field("Body") for request in delivered) == sorted(f"while down {n}" for n in range(100))
    assert len(receiver.requests) == 100
