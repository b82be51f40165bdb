"""The Interactions operations that change what exists: update an interaction, add a channel participant, update a
transfer; each with its refusals."""

import json
from typing import Any

import httpx

from tests.flex.conftest import ContactCenter
from tests.flex.test_invites_transfers import accepted_interaction, tasks_of
from tests.support.twilio_client import create_account
from tests.support.waiting import eventually

MISSING = "KD" + "0" * 32


def refused(response: httpx.Response, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == (20001 if status == 400 else 20404), response.text


async def test_updating_an_interaction_sets_its_webhook_ttid_and_nothing_else(center: ContactCenter) -> None:
    conversation_sid = await center.conversation_with_customer()
    created = await center.inbound_interaction(conversation_sid)
    url = f"/flex-api/v1/Interactions/{created['sid']}"
    assert created["webhook_ttid"] is None

    updated = await center.post(url, {"WebhookTtid": "flex_interaction_ttid_1"})
    assert updated["webhook_ttid"] == "flex_interaction_ttid_1"
    assert {key: updated[key] for key in ("sid", "channel", "interaction_context_sid", "url")} == \
        {key: created[key] for key in ("sid", "channel", "interaction_context_sid", "url")}
    assert updated["routing"]["properties"]["sid"] == created["routing"]["properties"]["sid"]
    assert (await center.get(url))["webhook_ttid"] == "flex_interaction_ttid_1"
    # An update without the field keeps it.
    assert (await center.post(url, {}))["webhook_ttid"] == "flex_interaction_ttid_1"

    refused(await center.http.post(url, data={"WebhookTtid": "x" * 257}))
    assert (await center.get(url))["webhook_ttid"] == "flex_interaction_ttid_1"
    refused(await center.http.post(f"/flex-api/v1/Interactions/{MISSING}", data={"WebhookTtid": "t"}), 404)
    stranger = await create_account(center.parley)
    async with httpx.AsyncClient(base_url=center.parley.base_url, auth=(stranger.sid, stranger.auth_token)) as other:
        refused(await other.post(url, data={"WebhookTtid": "stolen"}), 404)
    assert (await center.get(url))["webhook_ttid"] == "flex_interaction_ttid_1"


async def test_a_supervisor_added_as_a_channel_participant_joins_the_conversation(center: ContactCenter) -> None:
    conversation_sid, channel_url, task_sid, alice = await accepted_interaction(center)
    added = await center.post(f"{channel_url}/Participants", {
        "Type": "supervisor", "MediaProperties": json.dumps({"identity": "carol"})})
    assert added["sid"].startswith("UT") and added["type"] == "supervisor"
    assert added["channel_sid"] == alice["channel_sid"] and added["routing_properties"] is None
    assert added["url"] == f"{center.parley.base_url}{channel_url}/Participants/{added['sid']}"
    await center.wait_identities(conversation_sid, {"alice", "carol"})
    listed = (await center.get(f"{channel_url}/Participants"))["participants"]
    assert sorted(p["type"] for p in listed) == ["agent", "customer", "supervisor"]

    # An external party given by address is on the channel, not a chat identity of the conversation.
    external = await center.post(f"{channel_url}/Participants", {
        "Type": "external", "MediaProperties": json.dumps({"address": "+15550002222"}),
        "RoutingProperties": json.dumps({"task_sid": task_sid})})
    assert external["type"] == "external" and external["routing_properties"]["task_sid"] == task_sid
    assert len((await center.get(f"{channel_url}/Participants"))["participants"]) == 4

    # The supervisor leaves: out of the conversation; Alice's task is untouched.
    await center.post(f"{channel_url}/Participants/{added['sid']}", {"Status": "closed"})
    await center.wait_identities(conversation_sid, {"alice"})
    assert (await center.task(task_sid))["assignment_status"] == "assigned"


async def test_adding_a_channel_participant_is_refused_without_type_media_or_an_open_channel(
    center: ContactCenter,
) -> None:
    conversation_sid, channel_url, _, _ = await accepted_interaction(center)
    media = json.dumps({"identity": "carol"})
    for form in ({"MediaProperties": media}, {"Type": "boss", "MediaProperties": media}, {"Type": "supervisor"},
                 {"Type": "supervisor", "MediaProperties": "{not json"},
                 {"Type": "supervisor", "MediaProperties": "[1]"},
                 {"Type": "supervisor", "MediaProperties": media, "RoutingProperties": "nope"},
                 *({"Type": "supervisor", "MediaProperties": media, "RoutingProperties": json.dumps({key: sid})}
                   for key, sid in (("task_sid", f"WT{'0' * 32}"), ("worker_sid", f"WK{'0' * 32}"),
                                    ("reservation_sid", f"WR{'0' * 32}"), ("worker_sid", 7)))):
        refused(await center.http.post(f"{channel_url}/Participants", data=form))
    interaction_url = channel_url.split("/Channels/")[0]
    refused(await center.http.post(f"{interaction_url}/Channels/UO{'0' * 32}/Participants",
                                   data={"Type": "supervisor", "MediaProperties": media}), 404)
    assert len((await center.get(f"{channel_url}/Participants"))["participants"]) == 2

    await center.post(channel_url, {"Status": "closed", "Routing": json.dumps({"status": "closed"})})
    refused(await center.http.post(f"{channel_url}/Participants", data={"Type": "supervisor",
                                                                       "MediaProperties": media}))
    assert len((await center.get(f"{channel_url}/Participants"))["participants"]) == 2
    await eventually(lambda: center.conversation(conversation_sid), until=lambda c: c["state"] == "closed",
                     what="the conversation closed")
    assert await center.identities(conversation_sid) == {"alice"}


async def transfer_to_queue(center: ContactCenter, channel_url: str, alice: dict[str, Any]) -> dict[str, Any]:
    response = await center.http.post(f"{channel_url}/Transfers",
                                      json={"from": alice["sid"], "to": center.queue_sid, "type": "cold"})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_failing_a_transfer_calls_it_off_and_the_first_agent_keeps_the_customer(center: ContactCenter) -> None:
    conversation_sid, channel_url, first_task, alice = await accepted_interaction(center)
    transfer = await transfer_to_queue(center, channel_url, alice)
    transfer_url = f"{channel_url}/Transfers/{transfer['sid']}"
    (second,) = [task for task in await tasks_of(center) if task["sid"] != first_task]
    assert second["assignment_status"] == "pending"  # Bob is not available yet

    response = await center.http.post(transfer_url, json={"status": "failed"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "failed" and response.json()["sid"] == transfer["sid"]
    assert (await center.get(transfer_url))["status"] == "failed"
    # Called off: its task no longer routes, so Bob, now available, gets nothing and Alice keeps the customer.
    assert (await center.task(second["sid"]))["assignment_status"] == "canceled"
    await center.make_available(center.bob)
    reservations = await center.get(f"{center.ws}/Tasks/{second['sid']}/Reservations")
    assert reservations["reservations"] == []
    assert (await center.task(first_task))["assignment_status"] == "assigned"
    assert (await center.get(channel_url))["status"] == "active"
    assert await center.identities(conversation_sid) == {"alice"}

    # A finished transfer stays as it ended.
    refused(await center.http.post(transfer_url, json={"status": "completed"}))
    assert (await center.get(transfer_url))["status"] == "failed"


async def test_completing_a_transfer_ends_it_and_bad_updates_are_refused(center: ContactCenter) -> None:
    _, channel_url, first_task, alice = await accepted_interaction(center)
    transfer = await transfer_to_queue(center, channel_url, alice)
    transfer_url = f"{channel_url}/Transfers/{transfer['sid']}"
    for body in ({"status": "done"}, {"status": "active"}, {"status": 3}):
        refused(await center.http.post(transfer_url, json=body))
    refused(await center.http.post(transfer_url, content=b"{not json", headers={"Content-Type": "application/json"}))
    refused(await center.http.post(f"{channel_url}/Transfers/UX{'0' * 32}", json={"status": "failed"}), 404)
    assert (await center.get(transfer_url))["status"] == "active"

    # A form body is read as well.
    completed = await center.post(transfer_url, {"Status": "completed"})
    assert completed["status"] == "completed"
    assert (await center.get(transfer_url))["status"] == "completed"
    # Done: its waiting task is called off too, and Alice keeps the customer.
    (second,) = [task for task in await tasks_of(center) if task["sid"] != first_task]
    assert second["assignment_status"] == "canceled"
    assert (await center.task(first_task))["assignment_status"] == "assigned"
    refused(await center.http.post(transfer_url, json={"status": "failed"}))
