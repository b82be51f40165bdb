"""Inbound messages thread into conversations: auto-created per customer pair, indexed without gaps."""

import asyncio

import httpx

from services.conversations.app import SERVICE as CONVERSATIONS
from shared.cli import publish_inbound_message
from tests.support.parley import RunningParley
from tests.support.waiting import eventually

CUSTOMER = "+15551230001"
PARLEY_NUMBER = "+15550009999"


async def configure_address(client: httpx.AsyncClient, address: str = PARLEY_NUMBER, **extra: str) -> dict:
    response = await client.post(
        "/conversations/v1/Configuration/Addresses",
        data={"Type": "sms", "Address": address, "AutoCreation.Enabled": "true", "AutoCreation.Type": "default", **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def conversations_of(client: httpx.AsyncClient) -> list[dict]:
    response = await client.get("/conversations/v1/Conversations")
    assert response.status_code == 200, response.text
    return response.json()["conversations"]


async def messages_of(client: httpx.AsyncClient, conversation_sid: str) -> list[dict]:
    response = await client.get(f"/conversations/v1/Conversations/{conversation_sid}/Messages", params={"PageSize": 100})
    assert response.status_code == 200, response.text
    return response.json()["messages"]


async def test_twenty_racing_first_messages_make_one_conversation_with_gapless_indexes(launch) -> None:
    parley: RunningParley = await launch([CONVERSATIONS])
    async with parley.client() as client:
        await configure_address(client)
        await asyncio.gather(*(
            publish_inbound_message(parley.runtime.broker, account_sid=parley.account.sid, from_address=CUSTOMER,
                                    to_address=PARLEY_NUMBER, body=f"hello {n}")
            for n in range(20)
        ))
        conversations = await eventually(lambda: conversations_of(client), until=lambda found: len(found) >= 1)
        messages = await eventually(lambda: messages_of(client, conversations[0]["sid"]), until=lambda found: len(found) == 20)
        assert len(await conversations_of(client)) == 1
        assert [message["index"] for message in messages] == list(range(20))
        assert sorted(message["body"] for message in messages) == sorted(f"hello {n}" for n in range(20))
        participants = (await client.get(f"/conversations/v1/Conversations/{conversations[0]['sid']}/Participants")).json()
        assert [p["messaging_binding"] for p in participants["participants"]] == [
            {"type": "sms", "address": CUSTOMER, "proxy_address": PARLEY_NUMBER}
        ]


async def test_second_inbound_from_same_customer_joins_open_conversation(launch) -> None:
    parley: RunningParley = await launch([CONVERSATIONS])
    broker = parley.runtime.broker
    async with parley.client() as client:
        await configure_address(client)
        await publish_inbound_message(broker, account_sid=parley.account.sid, from_address=CUSTOMER,
                                      to_address=PARLEY_NUMBER, body="first")
        first = await eventually(lambda: conversations_of(client), until=lambda found: len(found) == 1)
        await publish_inbound_message(broker, account_sid=parley.account.sid, from_address=CUSTOMER,
                                      to_address=PARLEY_NUMBER, body="second")
        await eventually(lambda: messages_of(client, first[0]["sid"]), until=lambda found: len(found) == 2)
        await publish_inbound_message(broker, account_sid=parley.account.sid, from_address="+15557778888",
                                      to_address=PARLEY_NUMBER, body="another customer")
        both = await eventually(lambda: conversations_of(client), until=lambda found: len(found) == 2)
        assert {conversation["sid"] for conversation in both} >= {first[0]["sid"]}


async def test_provider_retry_of_one_message_sid_stores_one_message(launch) -> None:
    parley: RunningParley = await launch([CONVERSATIONS])
    async with parley.client() as client:
        await configure_address(client)
        for _ in range(3):
            await publish_inbound_message(parley.runtime.broker, account_sid=parley.account.sid, from_address=CUSTOMER,
                                          to_address=PARLEY_NUMBER, body="once", channel_message_sid="SM" + "a" * 32)
        await publish_inbound_message(parley.runtime.broker, account_sid=parley.account.sid, from_address=CUSTOMER,
                                      to_address=PARLEY_NUMBER, body="marker")
        found = await eventually(lambda: conversations_of(client), until=lambda found: len(found) == 1)
        messages = await eventually(lambda: messages_of(client, found[0]["sid"]),
                                    until=lambda found: any(m["body"] == "marker" for m in found))
        assert [message["body"] for message in messages].count("once") == 1


async def test_malformed_address_is_refused_with_twilio_error(launch) -> None:
    parley: RunningParley = await launch([CONVERSATIONS])
    async with parley.client() as client:
        for kind, address in [("sms", " 15550001111"), ("sms", "555-0100"), ("whatsapp", "+15550001111")]:
            response = await client.post("/conversations/v1/Configuration/Addresses", data={"Type": kind, "Address": address})
            assert response.status_code == 400, (kind, address, response.text)
            assert response.json()["code"] == 20001
        assert (await client.get("/conversations/v1/Configuration/Addresses")).json()["address_configurations"] == []
