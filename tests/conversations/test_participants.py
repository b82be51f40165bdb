"""Participants: chat identities and SMS/WhatsApp pairs, the 50425 pair rule, fetch by identity, isolation."""

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from services.conversations.app import SERVICE as CONVERSATIONS
from tests.support.parley import RunningParley
from tests.support.twilio_client import call, create_account, twilio_client

V1 = "/conversations/v1"
CUSTOMER = "+15551110001"
PARLEY_NUMBER = "+15550002222"


@pytest.fixture
async def parley(launch) -> RunningParley:
    return await launch([CONVERSATIONS])


async def new_conversation(client: httpx.AsyncClient, **data: str) -> str:
    response = await client.post(f"{V1}/Conversations", data=data)
    assert response.status_code == 201, response.text
    return response.json()["sid"]


async def add_sms(client: httpx.AsyncClient, conversation: str, address: str = CUSTOMER,
                  proxy: str = PARLEY_NUMBER) -> httpx.Response:
    return await client.post(f"{V1}/Conversations/{conversation}/Participants",
                             data={"MessagingBinding.Address": address, "MessagingBinding.ProxyAddress": proxy})


async def test_participant_lifecycle_through_the_twilio_library(parley: RunningParley) -> None:
    conversation = await call(twilio_client(parley).conversations.v1.conversations.create, friendly_name="p")
    participants = twilio_client(parley).conversations.v1.conversations(conversation.sid).participants
    alice = await call(participants.create, identity="alice", attributes='{"role": "agent"}')
    assert alice.sid.startswith("MB") and alice.identity == "alice" and alice.messaging_binding is None
    customer = await call(participants.create, messaging_binding_address=CUSTOMER,
                          messaging_binding_proxy_address=PARLEY_NUMBER)
    assert customer.messaging_binding == {"type": "sms", "address": CUSTOMER, "proxy_address": PARLEY_NUMBER}
    assert customer.identity is None
    assert (await call(participants("alice").fetch)).sid == alice.sid
    updated = await call(participants(alice.sid).update, last_read_message_index=3, attributes='{"x": 1}')
    assert updated.last_read_message_index == 3 and updated.attributes == '{"x": 1}'
    listed = await call(participants.list, page_size=1)
    assert {p.sid for p in listed} == {alice.sid, customer.sid}
    assert await call(participants(customer.sid).delete) is True
    with pytest.raises(TwilioRestException) as missing:
        await call(participants(customer.sid).fetch)
    assert missing.value.status == 404


async def test_a_pair_sits_in_one_open_conversation_until_released(parley: RunningParley) -> None:
    async with parley.client() as client:
        first, second = await new_conversation(client), await new_conversation(client)
        assert (await add_sms(client, first)).status_code == 201
        taken = await add_sms(client, second)
        assert taken.status_code == 409 and taken.json()["code"] == 50425
        assert (await add_sms(client, second, proxy="+15550003333")).status_code == 201  # another proxy: fine
        # Closing the first conversation releases the pair.
        await client.post(f"{V1}/Conversations/{first}", data={"State": "closed"})
        moved = await add_sms(client, second)
        assert moved.status_code == 201, moved.text
        # Removing the participant releases it too.
        await client.delete(f"{V1}/Conversations/{second}/Participants/{moved.json()['sid']}")
        third = await new_conversation(client)
        assert (await add_sms(client, third)).status_code == 201


async def test_an_inactive_conversation_still_holds_its_pair(parley: RunningParley) -> None:
    async with parley.client() as client:
        first, second = await new_conversation(client), await new_conversation(client)
        await add_sms(client, first)
        await client.post(f"{V1}/Conversations/{first}", data={"State": "inactive"})
        assert (await add_sms(client, second)).json()["code"] == 50425


async def test_bad_participants_are_refused_and_nothing_is_written(parley: RunningParley) -> None:
    async with parley.client() as client:
        conversation = await new_conversation(client)
        path = f"{V1}/Conversations/{conversation}/Participants"
        assert (await client.post(path, data={})).status_code == 400
        assert (await client.post(path, data={"MessagingBinding.Address": CUSTOMER})).status_code == 400
        assert (await client.post(path, data={"Identity": "bob", "Attributes": "nope"})).status_code == 400
        await client.post(path, data={"Identity": "bob"})
        duplicate = await client.post(path, data={"Identity": "bob"})
        assert duplicate.status_code == 409 and duplicate.json()["code"] == 50433
        assert len((await client.get(path)).json()["participants"]) == 1


async def test_another_account_sees_404_for_participants(parley: RunningParley) -> None:
    async with parley.client() as client:
        conversation = await new_conversation(client)
        sid = (await client.post(f"{V1}/Conversations/{conversation}/Participants", data={"Identity": "a"})).json()["sid"]
    stranger = await create_account(parley)
    async with httpx.AsyncClient(base_url=parley.base_url, auth=(stranger.sid, stranger.auth_token)) as other:
        assert (await other.get(f"{V1}/Conversations/{conversation}/Participants/{sid}")).status_code == 404
        assert (await other.get(f"{V1}/Conversations/{conversation}/Participants")).status_code == 404
        assert (await other.post(f"{V1}/Conversations/{conversation}/Participants", data={"Identity": "x"})).status_code == 404
