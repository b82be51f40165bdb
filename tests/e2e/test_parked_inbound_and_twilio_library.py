"""Inbound that cannot be placed is parked and replayable; the official twilio library reads what Parley made."""

import asyncio

import httpx
from twilio.rest import Client

from tests.support.parley import RunningParley
from tests.support.provider import create_twilio_provider, inbound_form, post_inbound
from tests.support.receiver import Receiver
from tests.support.waiting import eventually

PARLEY_NUMBER = "+15550002222"
CUSTOMER = "+15559870001"


async def dead_letters(client: httpx.AsyncClient, **filters: str) -> list[dict]:
    response = await client.get("/parley/v1/DeadLetters", params=filters)
    assert response.status_code == 200, response.text
    return response.json()["dead_letters"]


async def test_inbound_without_address_configuration_is_parked_then_replayed(parley: RunningParley) -> None:
    async with parley.client() as client:
        provider = await create_twilio_provider(client, PARLEY_NUMBER)
        accepted = await post_inbound(provider, inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body="lost?"))
        assert accepted.status_code == 200
        parked = await eventually(lambda: dead_letters(client, Queue="conversations.inbound"),
                                  until=lambda found: len(found) == 1 and found[0]["error"])
        assert parked[0]["status"] == "parked"
        assert "address configuration" in parked[0]["error"]
        assert parked[0]["payload"]["payload"]["body"] == "lost?"
        assert (await client.get("/conversations/v1/Conversations")).json()["conversations"] == []

        await client.post("/conversations/v1/Configuration/Addresses", data={
            "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "default",
        })
        replay = await client.post(f"/parley/v1/DeadLetters/{parked[0]['sid']}/Replay")
        assert replay.status_code in (200, 201, 202), replay.text
        conversations = await eventually(
            lambda: client.get("/conversations/v1/Conversations"),
            until=lambda response: len(response.json()["conversations"]) == 1,
        )
        sid = conversations.json()["conversations"][0]["sid"]
        messages = (await client.get(f"/conversations/v1/Conversations/{sid}/Messages")).json()["messages"]
        assert [message["body"] for message in messages] == ["lost?"]
        assert (await client.get(f"/parley/v1/DeadLetters/{parked[0]['sid']}")).json()["status"] == "replayed"


async def test_twenty_concurrent_first_posts_from_one_customer_make_one_conversation(
    parley: RunningParley, receiver: Receiver
) -> None:
    async with parley.client() as client:
        provider = await create_twilio_provider(client, PARLEY_NUMBER)
        await client.post("/conversations/v1/Configuration/Addresses", data={
            "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "webhook",
            "AutoCreation.WebhookUrl": f"{receiver.url}/hook", "AutoCreation.WebhookFilters": "onMessageAdded",
        })
        async with httpx.AsyncClient(timeout=30) as provider_client:
            responses = await asyncio.gather(*(
                post_inbound(provider, inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body=f"n{n}"),
                             client=provider_client)
                for n in range(20)
            ))
        assert {response.status_code for response in responses} == {200}
        delivered = await receiver.wait_for(20)
        conversations = (await client.get("/conversations/v1/Conversations")).json()["conversations"]
    assert len(conversations) == 1
    assert sorted(int(request.field("Index")) for request in delivered) == list(range(20))
    assert {request.field("ConversationSid") for request in delivered} == {conversations[0]["sid"]}


async def test_official_twilio_library_lists_the_auto_created_conversation(parley: RunningParley, receiver: Receiver) -> None:
    async with parley.client() as client:
        provider = await create_twilio_provider(client, PARLEY_NUMBER)
        await client.post("/conversations/v1/Configuration/Addresses", data={
            "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "webhook",
            "AutoCreation.WebhookUrl": f"{receiver.url}/hook", "AutoCreation.WebhookFilters": "onMessageAdded",
        })
        for body in ("first", "second"):
            await post_inbound(provider, inbound_form(from_address=CUSTOMER, to_address=PARLEY_NUMBER, body=body))
        await receiver.wait_for(2)

    def read_with_twilio() -> tuple[list, list, list, list]:
        twilio = Client(parley.account.sid, parley.account.auth_token)
        twilio.conversations.base_url = f"{parley.base_url}/conversations"
        conversations = twilio.conversations.v1.conversations.list()
        conversation = conversations[0]
        participants = conversation.participants.list()
        messages = conversation.messages.list()
        addresses = twilio.conversations.v1.address_configurations.list()
        return conversations, participants, messages, addresses

    conversations, participants, messages, addresses = await asyncio.to_thread(read_with_twilio)
    assert len(conversations) == 1 and conversations[0].state == "active"
    assert [p.messaging_binding for p in participants] == [
        {"type": "sms", "address": CUSTOMER, "proxy_address": PARLEY_NUMBER}
    ]
    assert [(m.index, m.body, m.author) for m in messages] == [(0, "first", CUSTOMER), (1, "second", CUSTOMER)]
    assert [a.address for a in addresses] == [PARLEY_NUMBER]
    assert addresses[0].auto_creation["type"] == "webhook"
