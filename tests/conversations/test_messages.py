"""Messages: author, body limit, index by SID or number, Order, keyset paging, reactivation, receipts."""

import asyncpg
import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from services.conversations import store
from services.conversations.app import SERVICE as CONVERSATIONS
from shared.cli import publish_inbound_message
from tests.support.event_tap import EventTap
from tests.support.parley import RunningParley
from tests.support.twilio_client import call, create_account, twilio_client
from tests.support.waiting import eventually

V1 = "/conversations/v1"
CUSTOMER = "+15551119999"
PARLEY_NUMBER = "+15550004444"


@pytest.fixture
async def parley(launch) -> RunningParley:
    return await launch([CONVERSATIONS])


@pytest.fixture
async def tap(parley: RunningParley):
    listener = EventTap(parley.settings)
    await listener.start()
    yield listener
    await listener.stop()


async def test_message_lifecycle_through_the_twilio_library(parley: RunningParley) -> None:
    conversation = await call(twilio_client(parley).conversations.v1.conversations.create)
    messages = twilio_client(parley).conversations.v1.conversations(conversation.sid).messages
    first = await call(messages.create, body="Hello")
    assert first.author == "system" and first.index == 0 and first.attributes == "{}" and first.delivery is None
    second = await call(messages.create, body="Again", author="alice", attributes='{"k": 1}')
    assert second.index == 1 and second.author == "alice"
    assert (await call(messages("1").fetch)).sid == second.sid  # by index
    edited = await call(messages(first.sid).update, body="Hello, edited")
    assert edited.body == "Hello, edited"
    assert [m.index for m in await call(messages.list, order="desc")] == [1, 0]
    assert await call(messages(first.sid).delete) is True
    third = await call(messages.create, body="after delete")
    assert third.index == 2  # indexes only grow
    with pytest.raises(TwilioRestException):
        await call(messages(first.sid).fetch)


async def test_body_limit_and_json_attributes_are_enforced(parley: RunningParley) -> None:
    async with parley.client() as client:
        sid = (await client.post(f"{V1}/Conversations")).json()["sid"]
        path = f"{V1}/Conversations/{sid}/Messages"
        assert (await client.post(path, data={"Body": "x" * 1601})).status_code == 400
        assert (await client.post(path, data={"Body": "ok", "Attributes": "[oops"})).status_code == 400
        assert (await client.post(path, data={"Body": "x" * 1600})).status_code == 201
        assert [m["index"] for m in (await client.get(path)).json()["messages"]] == [0]


async def test_paging_forward_and_back_in_either_order(parley: RunningParley) -> None:
    async with parley.client() as client:
        sid = (await client.post(f"{V1}/Conversations")).json()["sid"]
        for n in range(7):
            await client.post(f"{V1}/Conversations/{sid}/Messages", data={"Body": str(n)})
        for order, expected in (("asc", list(range(7))), ("desc", list(range(6, -1, -1)))):
            seen, pages, url = [], [], f"{V1}/Conversations/{sid}/Messages?PageSize=3&Order={order}"
            while url:
                page = (await client.get(url)).json()
                pages.append(page)
                seen += [m["index"] for m in page["messages"]]
                url = page["meta"]["next_page_url"]
            assert seen == expected
            back = (await client.get(pages[-1]["meta"]["previous_page_url"])).json()
            assert [m["index"] for m in back["messages"]] == expected[3:6]


async def test_inbound_message_reactivates_an_inactive_conversation(parley: RunningParley, tap: EventTap) -> None:
    async with parley.client() as client:
        await client.post(f"{V1}/Configuration/Addresses", data={
            "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "default"})
        await publish_inbound_message(parley.runtime.broker, account_sid=parley.account.sid, from_address=CUSTOMER,
                                      to_address=PARLEY_NUMBER, body="first")
        listed = await eventually(lambda: client.get(f"{V1}/Conversations"),
                                  until=lambda r: len(r.json()["conversations"]) == 1)
        sid = listed.json()["conversations"][0]["sid"]
        assert (await client.post(f"{V1}/Conversations/{sid}", data={"State": "inactive"})).json()["state"] == "inactive"
        await publish_inbound_message(parley.runtime.broker, account_sid=parley.account.sid, from_address=CUSTOMER,
                                      to_address=PARLEY_NUMBER, body="I'm back")
        woken = await eventually(lambda: client.get(f"{V1}/Conversations/{sid}"),
                                 until=lambda r: r.json()["state"] == "active")
        assert woken.json()["sid"] == sid
        messages = (await client.get(f"{V1}/Conversations/{sid}/Messages")).json()["messages"]
        assert [m["body"] for m in messages] == ["first", "I'm back"]
    events = await tap.wait_for("conversation.state_updated", 2)
    assert [(e["payload"]["reason"], e["payload"]["resource"]["state"]) for e in events] == [
        ("API", "inactive"), ("EVENT", "active")]


async def test_a_rest_message_also_reactivates(parley: RunningParley) -> None:
    async with parley.client() as client:
        sid = (await client.post(f"{V1}/Conversations", data={"State": "inactive"})).json()["sid"]
        await client.post(f"{V1}/Conversations/{sid}/Messages", data={"Body": "wake up"})
        assert (await client.get(f"{V1}/Conversations/{sid}")).json()["state"] == "active"


async def test_delivery_summary_aggregates_receipts(parley: RunningParley) -> None:
    async with parley.client() as client:
        sid = (await client.post(f"{V1}/Conversations")).json()["sid"]
        participants = []
        for n in range(2):
            response = await client.post(f"{V1}/Conversations/{sid}/Participants", data={
                "MessagingBinding.Address": f"+1555777000{n}", "MessagingBinding.ProxyAddress": PARLEY_NUMBER})
            participants.append(response.json()["sid"])
        message = (await client.post(f"{V1}/Conversations/{sid}/Messages", data={"Body": "hi"})).json()
        conn = await asyncpg.connect(parley.settings.database_url,
                                     server_settings={"search_path": parley.settings.schema_name("conversations")})
        try:
            for participant, status in zip(participants, ("delivered", "read"), strict=True):
                await store.upsert_receipt(conn, account_sid=parley.account.sid, conversation_sid=sid,
                                           message_sid=message["sid"], participant_sid=participant,
                                           channel_message_sid="SM" + "1" * 32, status=status)
        finally:
            await conn.close()
        fetched = (await client.get(f"{V1}/Conversations/{sid}/Messages/{message['sid']}")).json()
        assert fetched["delivery"] == {"total": 2, "sent": "all", "delivered": "all", "read": "some",
                                       "failed": "none", "undelivered": "none"}
    receipts = twilio_client(parley).conversations.v1.conversations(sid).messages(message["sid"]).delivery_receipts
    listed = await call(receipts.list)
    assert sorted(r.status for r in listed) == ["delivered", "read"]
    one = await call(receipts(listed[0].sid).fetch)
    assert one.sid.startswith("DY") and one.message_sid == message["sid"] and one.error_code == 0


async def test_another_account_sees_404_for_messages(parley: RunningParley) -> None:
    async with parley.client() as client:
        sid = (await client.post(f"{V1}/Conversations")).json()["sid"]
        message = (await client.post(f"{V1}/Conversations/{sid}/Messages", data={"Body": "secret"})).json()["sid"]
    stranger = await create_account(parley)
    async with httpx.AsyncClient(base_url=parley.base_url, auth=(stranger.sid, stranger.auth_token)) as other:
        for path in (f"{V1}/Conversations/{sid}/Messages/{message}", f"{V1}/Conversations/{sid}/Messages",
                     f"{V1}/Conversations/{sid}/Messages/{message}/Receipts"):
            assert (await other.get(path)).status_code == 404, path
