"""Conversations through the official `twilio` library and plain HTTP: both path forms, UniqueName, filters, paging."""

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from services.conversations.app import SERVICE as CONVERSATIONS
from tests.support.parley import RunningParley
from tests.support.twilio_client import call, create_account, twilio_client

V1 = "/conversations/v1"


@pytest.fixture
async def parley(launch) -> RunningParley:
    return await launch([CONVERSATIONS])


async def test_conversation_lifecycle_through_the_twilio_library(parley: RunningParley) -> None:
    conversations = twilio_client(parley).conversations.v1.conversations
    created = await call(conversations.create, friendly_name="Support", unique_name="order-1",
                         attributes='{"topic": "refund"}')
    assert created.sid.startswith("CH") and created.state == "active"
    assert created.attributes == '{"topic": "refund"}' and created.chat_service_sid.startswith("IS")
    assert created.timers == {} and created.date_created is not None
    fetched = await call(conversations(created.sid).fetch)
    assert fetched.unique_name == "order-1"
    updated = await call(conversations(created.sid).update, friendly_name="Billing")
    assert updated.friendly_name == "Billing"
    listed = await call(conversations.list)
    assert [c.sid for c in listed] == [created.sid]
    assert await call(conversations(created.sid).delete) is True
    with pytest.raises(TwilioRestException) as missing:
        await call(conversations(created.sid).fetch)
    assert missing.value.status == 404


async def test_attributes_default_to_empty_json_and_invalid_json_is_refused(parley: RunningParley) -> None:
    async with parley.client() as client:
        plain = await client.post(f"{V1}/Conversations", data={})
        assert plain.status_code == 201 and plain.json()["attributes"] == "{}"
        broken = await client.post(f"{V1}/Conversations", data={"Attributes": "{not json"})
        assert broken.status_code == 400 and broken.json()["code"] == 20001
        assert len((await client.get(f"{V1}/Conversations")).json()["conversations"]) == 1


async def test_unique_name_stands_in_for_the_sid(parley: RunningParley) -> None:
    conversations = twilio_client(parley).conversations.v1.conversations
    created = await call(conversations.create, unique_name="ticket-42")
    by_name = await call(conversations("ticket-42").fetch)
    assert by_name.sid == created.sid
    await call(conversations("ticket-42").update, attributes='{"a": 1}')
    assert (await call(conversations(created.sid).fetch)).attributes == '{"a": 1}'
    async with parley.client() as client:
        duplicate = await client.post(f"{V1}/Conversations", data={"UniqueName": "ticket-42"})
    assert duplicate.status_code == 409 and duplicate.json()["code"] == 50353


async def test_timers_on_create_need_a_state_and_a_valid_duration(parley: RunningParley) -> None:
    async with parley.client() as client:
        no_state = await client.post(f"{V1}/Conversations", data={"Timers.Inactive": "PT1M"})
        assert no_state.status_code == 400 and no_state.json()["code"] == 50382
        bad = await client.post(f"{V1}/Conversations", data={"Timers.Inactive": "ten minutes", "State": "active"})
        assert bad.status_code == 400 and bad.json()["code"] == 50379
        good = await client.post(f"{V1}/Conversations", data={"Timers.Inactive": "PT1M", "Timers.Closed": "PT10M",
                                                              "State": "active"})
        assert good.status_code == 201, good.text
        assert set(good.json()["timers"]) == {"date_inactive", "date_closed"}
        assert len((await client.get(f"{V1}/Conversations")).json()["conversations"]) == 1


async def test_list_filters_by_state_and_dates_and_pages_by_keyset(parley: RunningParley) -> None:
    async with parley.client() as client:
        sids = []
        for n in range(5):
            response = await client.post(f"{V1}/Conversations", data={"FriendlyName": f"c{n}",
                                                                       "DateCreated": f"2024-01-0{n + 1}T10:00:00Z"})
            sids.append(response.json()["sid"])
        await client.post(f"{V1}/Conversations/{sids[0]}", data={"State": "closed"})
        closed = (await client.get(f"{V1}/Conversations", params={"State": "closed"})).json()["conversations"]
        assert [c["sid"] for c in closed] == [sids[0]]
        ranged = (await client.get(f"{V1}/Conversations", params={"StartDate": "2024-01-02", "EndDate": "2024-01-04"}))
        assert [c["sid"] for c in ranged.json()["conversations"]] == [sids[3], sids[2], sids[1]]  # newest first
        seen, url = [], f"{V1}/Conversations?PageSize=2"
        while url:
            page = (await client.get(url)).json()
            seen += [c["sid"] for c in page["conversations"]]
            url = page["meta"]["next_page_url"]
        assert seen == sids


async def test_library_pages_through_every_conversation(parley: RunningParley) -> None:
    conversations = twilio_client(parley).conversations.v1.conversations
    for n in range(7):
        await call(conversations.create, friendly_name=f"n{n}")
    listed = await call(conversations.list, page_size=3)
    assert [c.friendly_name for c in listed] == [f"n{n}" for n in range(7)]


async def test_service_path_acts_on_the_named_service_and_default_path_on_the_default(parley: RunningParley) -> None:
    client = twilio_client(parley)
    created = await call(client.conversations.v1.conversations.create, friendly_name="default one")
    service_sid = created.chat_service_sid
    in_service = client.conversations.v1.services(service_sid).conversations
    fetched = await call(in_service(created.sid).fetch)
    assert fetched.sid == created.sid and fetched.chat_service_sid == service_sid
    other = await call(in_service.create, friendly_name="via service path")
    assert other.url.endswith(f"/Services/{service_sid}/Conversations/{other.sid}")
    assert {c.sid for c in await call(in_service.list)} == {created.sid, other.sid}
    async with parley.client() as http:
        unknown = await http.get(f"{V1}/Services/IS{'0' * 32}/Conversations/{created.sid}")
    assert unknown.status_code == 404


async def test_another_account_sees_404(parley: RunningParley) -> None:
    conversations = twilio_client(parley).conversations.v1.conversations
    created = await call(conversations.create, friendly_name="mine", unique_name="mine")
    stranger = await create_account(parley)
    async with httpx.AsyncClient(base_url=parley.base_url, auth=(stranger.sid, stranger.auth_token)) as client:
        for path in (f"{V1}/Conversations/{created.sid}", f"{V1}/Conversations/mine",
                     f"{V1}/Services/{created.chat_service_sid}/Conversations/{created.sid}"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert response.json()["code"] == 20404
        assert (await client.post(f"{V1}/Conversations/{created.sid}", data={"FriendlyName": "x"})).status_code == 404
        assert (await client.delete(f"{V1}/Conversations/{created.sid}")).status_code == 404
    assert (await call(conversations(created.sid).fetch)).friendly_name == "mine"


async def test_closed_conversation_refuses_changes_messages_and_participants(parley: RunningParley) -> None:
    async with parley.client() as client:
        sid = (await client.post(f"{V1}/Conversations", data={"State": "closed"})).json()["sid"]
        for path, data in ((f"{V1}/Conversations/{sid}/Messages", {"Body": "hi"}),
                           (f"{V1}/Conversations/{sid}/Participants", {"Identity": "alice"}),
                           (f"{V1}/Conversations/{sid}", {"State": "active"})):
            response = await client.post(path, data=data)
            assert response.status_code == 400 and response.json()["code"] == 50377, path
