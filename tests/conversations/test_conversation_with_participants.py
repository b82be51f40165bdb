"""ConversationWithParticipants (all or nothing) and ParticipantConversations (by Identity or Address)."""

import json

import httpx
import pytest

from services.conversations.app import SERVICE as CONVERSATIONS
from tests.support.parley import RunningParley
from tests.support.twilio_client import call, create_account, twilio_client

V1 = "/conversations/v1"
CUSTOMER = "+15556660001"
PARLEY_NUMBER = "+15556669999"
SMS = json.dumps({"messaging_binding": {"address": CUSTOMER, "proxy_address": PARLEY_NUMBER}})


@pytest.fixture
async def parley(launch) -> RunningParley:
    return await launch([CONVERSATIONS])


async def test_conversation_with_participants_through_the_twilio_library(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    created = await call(client.conversation_with_participants.create, friendly_name="together",
                         participant=[json.dumps({"identity": "alice"}), SMS])
    assert created.sid.startswith("CH") and created.state == "active" and created.friendly_name == "together"
    participants = await call(client.conversations(created.sid).participants.list)
    assert sorted((p.identity or "", (p.messaging_binding or {}).get("address", "")) for p in participants) == [
        ("", CUSTOMER), ("alice", "")]


async def test_one_bad_participant_creates_nothing(parley: RunningParley) -> None:
    async with parley.client() as client:
        holder = (await client.post(f"{V1}/Conversations")).json()["sid"]
        await client.post(f"{V1}/Conversations/{holder}/Participants", data={
            "MessagingBinding.Address": CUSTOMER, "MessagingBinding.ProxyAddress": PARLEY_NUMBER})
        # The pair is taken: the whole request fails, and neither the conversation nor alice is left behind.
        taken = await client.post(f"{V1}/ConversationWithParticipants", data={
            "UniqueName": "all-or-nothing", "Participant": [json.dumps({"identity": "alice"}), SMS]})
        assert taken.status_code == 409 and taken.json()["code"] == 50425
        malformed = await client.post(f"{V1}/ConversationWithParticipants", data={
            "UniqueName": "all-or-nothing", "Participant": [json.dumps({"identity": "bob"}), "{broken"]})
        assert malformed.status_code == 400
        listed = (await client.get(f"{V1}/Conversations")).json()["conversations"]
        assert [c["sid"] for c in listed] == [holder]
        assert (await client.get(f"{V1}/Conversations/all-or-nothing")).status_code == 404
        assert (await client.get(f"{V1}/ParticipantConversations", params={"Identity": "alice"})).json()["conversations"] == []


async def test_participant_conversations_by_identity_and_by_address(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    first = await call(client.conversation_with_participants.create, unique_name="one",
                       participant=[json.dumps({"identity": "alice"}), SMS])
    second = await call(client.conversations.create, unique_name="two")
    await call(client.conversations(second.sid).participants.create, identity="alice")
    by_identity = await call(client.participant_conversations.list, identity="alice")
    assert {c.conversation_sid for c in by_identity} == {first.sid, second.sid}
    assert {c.conversation_unique_name for c in by_identity} == {"one", "two"}
    by_address = await call(client.participant_conversations.list, address=CUSTOMER)
    assert [(c.conversation_sid, c.participant_messaging_binding["proxy_address"]) for c in by_address] == [
        (first.sid, PARLEY_NUMBER)]
    in_service = await call(client.services(first.chat_service_sid).participant_conversations.list, identity="alice")
    assert len(in_service) == 2
    async with parley.client() as http:
        assert (await http.get(f"{V1}/ParticipantConversations")).status_code == 400
    stranger = await create_account(parley)
    async with httpx.AsyncClient(base_url=parley.base_url, auth=(stranger.sid, stranger.auth_token)) as other:
        found = (await other.get(f"{V1}/ParticipantConversations", params={"Identity": "alice"})).json()
        assert found["conversations"] == []
