"""Pre-event webhooks end to end: an SMS posted to ingress waits for the business's answer before it is stored.

Inbound through ingress (signed as a provider signs), conversations asks the webhooks service by RPC,
which calls the receiver; the answer blocks, changes or (by its silence) lets the message through.
"""

import json
from typing import Any

import asyncpg
import httpx
from starlette.responses import Response
from twilio.request_validator import RequestValidator

from shared.settings import Settings
from tests.support.parley import RunningParley
from tests.support.provider import Provider, create_twilio_provider, inbound_form, post_inbound
from tests.support.receiver import ReceivedRequest, Receiver
from tests.support.waiting import eventually
from tests.webhooks.deliveries import FormParams
from tests.webhooks.gated_receiver import GatedReceiver

PARLEY_NUMBER = "+15550002222"
CUSTOMER = "+15557650001"
V1 = "/conversations/v1"


async def configure(client: httpx.AsyncClient, *, pre_url: str, post_url: str, filters: list[str]) -> Provider:
    """An SMS number that auto-creates conversations, and account-level pre- and post-event webhooks."""
    provider = await create_twilio_provider(client, PARLEY_NUMBER)
    response = await client.post(f"{V1}/Configuration/Addresses", data={
        "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "default",
    })
    assert response.status_code == 201, response.text
    response = await client.post(f"{V1}/Configuration/Webhooks", data={
        "PreWebhookUrl": pre_url, "PostWebhookUrl": post_url, "Filters": filters, "Method": "POST", "Target": "webhook",
    })
    assert response.status_code == 200, response.text
    return provider


async def send(provider: Provider, body: str) -> None:
    response = await post_inbound(provider, inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body=body))
    assert response.status_code == 200, response.text


async def conversations_of(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return (await client.get(f"{V1}/Conversations", params={"PageSize": 100})).json()["conversations"]


async def messages_of(client: httpx.AsyncClient, conversation_sid: str) -> list[dict[str, Any]]:
    response = await client.get(f"{V1}/Conversations/{conversation_sid}/Messages", params={"PageSize": 100})
    return list(response.json()["messages"])


async def dropped(settings: Settings) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": settings.schema_name("conversations")})
    try:
        return [dict(row) for row in await conn.fetch("SELECT * FROM dropped_messages ORDER BY id")]
    finally:
        await conn.close()


def is_pre(request: ReceivedRequest) -> bool:
    return request.path == "/pre"


def posted(receiver: Receiver, event: str) -> list[str | None]:
    return [request.field("Body") for request in receiver.requests if request.path == "/post"
            and request.field("EventType") == event]


async def test_a_refused_on_message_add_drops_the_inbound_sms(parley: RunningParley, receiver: Receiver) -> None:
    receiver.responder = lambda request: (Response(status_code=403)
                                          if is_pre(request) and request.field("Body") == "drop me" else None)
    async with parley.client() as client:
        provider = await configure(client, pre_url=f"{receiver.url}/pre", post_url=f"{receiver.url}/post",
                                   filters=["onMessageAdd", "onMessageAdded"])
        await send(provider, "first")
        await receiver.wait_for(1, where=lambda r: r.path == "/post")
        await send(provider, "drop me")
        await send(provider, "after")
        await receiver.wait_for(1, where=lambda r: r.path == "/post" and r.field("Body") == "after")
        (conversation,) = await conversations_of(client)
        stored = await messages_of(client, conversation["sid"])
    assert [message["body"] for message in stored] == ["first", "after"]
    assert [message["index"] for message in stored] == [0, 1]
    assert posted(receiver, "onMessageAdded") == ["first", "after"]
    # The auto-creating first message asked nothing (only onConversationAdd fires then); the others asked.
    assert [r.field("Body") for r in receiver.attempts if is_pre(r)] == ["drop me", "after"]
    (drop,) = await dropped(parley.settings)
    assert drop["event_type"] == "onMessageAdd" and drop["response_code"] == 403
    assert drop["conversation_sid"] == conversation["sid"]
    assert (drop["from_address"], drop["to_address"]) == (CUSTOMER, PARLEY_NUMBER)
    asked = next(r for r in receiver.attempts if is_pre(r))
    assert asked.field("EventType") == "onMessageAdd" and asked.field("ConversationSid") == conversation["sid"]
    assert asked.field("Author") == CUSTOMER and asked.field("Source") == "SMS"
    assert asked.field("MessageSid") is None and asked.field("Index") is None  # nothing is committed yet
    validator = RequestValidator(parley.account.auth_token)
    assert validator.validate(asked.url, FormParams(asked.params), asked.headers["x-twilio-signature"])


async def test_a_json_answer_changes_the_stored_message(parley: RunningParley, receiver: Receiver) -> None:
    def rewrite(request: ReceivedRequest) -> Response | None:
        if not is_pre(request):
            return None
        answer = {"body": (request.field("Body") or "").upper(), "attributes": {"checked": True}, "index": 99}
        return Response(json.dumps(answer), media_type="application/json")

    receiver.responder = rewrite
    async with parley.client() as client:
        provider = await configure(client, pre_url=f"{receiver.url}/pre", post_url=f"{receiver.url}/post",
                                   filters=["onMessageAdd", "onMessageAdded"])
        await send(provider, "first")
        await send(provider, "please shout")
        await receiver.wait_for(2, where=lambda r: r.path == "/post")
        (conversation,) = await conversations_of(client)
        stored = await messages_of(client, conversation["sid"])
    assert [message["body"] for message in stored] == ["first", "PLEASE SHOUT"]
    assert json.loads(stored[1]["attributes"]) == {"checked": True}
    assert stored[1]["author"] == CUSTOMER and stored[1]["index"] == 1
    assert posted(receiver, "onMessageAdded") == ["first", "PLEASE SHOUT"]


async def test_a_receiver_that_never_answers_lets_the_message_through_unchanged(
    launch, settings: Settings, receiver: Receiver
) -> None:
    parley = await launch(settings=settings.model_copy(update={"webhook_timeout_seconds": 1.0}))
    silent = GatedReceiver()  # holds every request until the test ends: it never answers in time
    await silent.start()
    try:
        async with parley.client() as client:
            provider = await configure(client, pre_url=f"{silent.url}/pre", post_url=f"{receiver.url}/post",
                                       filters=["onMessageAdd", "onMessageAdded"])
            await send(provider, "first")
            await receiver.wait_for(1)
            await send(provider, "anyone there?")
            await receiver.wait_for(2, timeout=30)
            (conversation,) = await conversations_of(client)
            stored = await messages_of(client, conversation["sid"])
        assert silent.most_waiting == 1  # it was asked, and said nothing
        assert [message["body"] for message in stored] == ["first", "anyone there?"]
        assert posted(receiver, "onMessageAdded") == ["first", "anyone there?"]
        assert await dropped(parley.settings) == []
    finally:
        silent.gate.set()
        await silent.stop()


async def test_a_refused_on_conversation_add_stops_the_auto_creation(parley: RunningParley, receiver: Receiver) -> None:
    receiver.responder = lambda request: Response(status_code=403) if is_pre(request) else None
    async with parley.client() as client:
        provider = await configure(
            client, pre_url=f"{receiver.url}/pre", post_url=f"{receiver.url}/post",
            filters=["onConversationAdd", "onMessageAdd", "onConversationAdded", "onParticipantAdded", "onMessageAdded"],
        )
        await send(provider, "hello?")
        (drop,) = await eventually(lambda: dropped(parley.settings), what="the drop to be recorded")
        assert await conversations_of(client) == []
    assert drop["event_type"] == "onConversationAdd" and drop["conversation_sid"] is None
    (asked,) = [r for r in receiver.attempts if is_pre(r)]  # onMessageAdd does not fire during auto-creation
    assert asked.field("EventType") == "onConversationAdd"
    assert asked.field("MessageBody") == "hello?"
    assert asked.field("MessagingBinding.Address") == CUSTOMER
    assert asked.field("MessagingBinding.ProxyAddress") == PARLEY_NUMBER
    assert asked.field("ConversationSid") is None
    validator = RequestValidator(parley.account.auth_token)
    assert validator.validate(asked.url, FormParams(asked.params), asked.headers["x-twilio-signature"])
    assert [r for r in receiver.attempts if r.path == "/post"] == []


async def test_on_conversation_add_may_rename_the_new_conversation_at_service_level(
    parley: RunningParley, receiver: Receiver
) -> None:
    receiver.responder = lambda request: (Response(json.dumps({"friendly_name": "VIP customer", "body": "ignored"}),
                                                   media_type="application/json") if is_pre(request) else None)
    async with parley.client() as client:
        provider = await create_twilio_provider(client, PARLEY_NUMBER)
        service = (await client.post(f"{V1}/Services", data={"FriendlyName": "Support"})).json()["sid"]
        response = await client.post(f"{V1}/Configuration/Addresses", data={
            "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "default",
            "AutoCreation.ConversationServiceSid": service,
        })
        assert response.status_code == 201, response.text
        response = await client.post(f"{V1}/Services/{service}/Configuration/Webhooks", data={
            "PreWebhookUrl": f"{receiver.url}/pre", "PostWebhookUrl": f"{receiver.url}/post",
            "Filters": ["onConversationAdd", "onConversationAdded", "onMessageAdded"],
        })
        assert response.status_code == 200, response.text
        await send(provider, "hi")
        await receiver.wait_for(1, where=lambda r: r.field("EventType") == "onMessageAdded")
        (conversation,) = (await client.get(f"{V1}/Services/{service}/Conversations")).json()["conversations"]
        messages = await client.get(f"{V1}/Services/{service}/Conversations/{conversation['sid']}/Messages")
        (message,) = messages.json()["messages"]
    assert conversation["friendly_name"] == "VIP customer"
    assert message["body"] == "hi"  # a conversation's answer changes the conversation only
    (added,) = [r for r in receiver.requests if r.field("EventType") == "onConversationAdded"]
    assert added.field("FriendlyName") == "VIP customer"
    assert [r.field("ChatServiceSid") for r in receiver.attempts if is_pre(r)] == [service]
