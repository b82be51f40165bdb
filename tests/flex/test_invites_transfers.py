"""Invites bring a second agent in; transfers hand the customer over (cold: at once, warm: when the first leaves)."""

import json
from typing import Any

from tests.flex.conftest import CUSTOMER, ContactCenter


async def accepted_interaction(center: ContactCenter, conversation_sid: str | None = None,
                               ) -> tuple[str, str, str, dict[str, Any]]:
    """A customer conversation (a new one unless named) whose task Alice accepted: (conversation, channel URL,
    task, Alice's participant)."""
    conversation_sid = conversation_sid or await center.conversation_with_customer()
    created = await center.inbound_interaction(conversation_sid)
    task_sid = created["routing"]["properties"]["sid"]
    await center.make_available(center.alice)
    await center.accept(task_sid, center.alice)
    await center.wait_identities(conversation_sid, {"alice"})
    channel_url = f"/flex-api/v1/Interactions/{created['sid']}/Channels/{created['channel']['sid']}"
    alice = next(p for p in (await center.get(f"{channel_url}/Participants"))["participants"] if p["type"] == "agent")
    return conversation_sid, channel_url, task_sid, alice


async def tasks_of(center: ContactCenter) -> list[dict[str, Any]]:
    return (await center.get(f"{center.ws}/Tasks"))["tasks"]


async def test_invite_gives_a_second_agent_a_task_and_both_are_participants(center: ContactCenter) -> None:
    conversation_sid, channel_url, first_task, _ = await accepted_interaction(center)
    await center.make_available(center.bob)
    invite = await center.post(f"{channel_url}/Invites", {"Routing": json.dumps({"properties": {
        "workspace_sid": center.workspace_sid, "workflow_sid": center.workflow_sid,
        "task_channel_unique_name": "chat", "attributes": {"reason": "second opinion"}}})})
    assert invite["sid"].startswith("KG") and invite["routing"]["properties"]["attributes"]["reason"] == "second opinion"
    (second,) = [task for task in await tasks_of(center) if task["sid"] != first_task]
    attributes = json.loads(second["attributes"])
    assert attributes["flexChannelInviteSid"] == invite["sid"] and attributes["conversationSid"] == conversation_sid
    assert attributes["customerAddress"] == CUSTOMER and attributes["reason"] == "second opinion"
    await center.accept(second["sid"], center.bob)
    await center.wait_identities(conversation_sid, {"alice", "bob"})
    listed = await center.get(f"{channel_url}/Invites")
    assert [entry["sid"] for entry in listed["invites"]] == [invite["sid"]]
    agents = [p for p in (await center.get(f"{channel_url}/Participants"))["participants"] if p["type"] == "agent"]
    assert {p["routing_properties"]["worker_sid"] for p in agents} == {center.alice.sid, center.bob.sid}


async def test_cold_transfer_takes_the_first_agent_out_when_the_second_accepts(center: ContactCenter) -> None:
    conversation_sid, channel_url, first_task, alice = await accepted_interaction(center)
    response = await center.http.post(f"{channel_url}/Transfers",
                                      json={"from": alice["sid"], "to": center.bob.sid, "type": "cold"})
    assert response.status_code == 201, response.text
    transfer = response.json()
    assert transfer["sid"].startswith("UX") and transfer["status"] == "active" and transfer["type"] == "cold"
    (second,) = [task for task in await tasks_of(center) if task["sid"] != first_task]
    assert json.loads(second["attributes"])["transferTargetSid"] == center.bob.sid
    await center.accept(second["sid"], center.bob)
    await center.wait_identities(conversation_sid, {"bob"})
    assert (await center.task(first_task))["assignment_status"] == "completed"
    fetched = await center.get(f"{channel_url}/Transfers/{transfer['sid']}")
    assert fetched["status"] == "completed"


async def test_warm_transfer_keeps_the_first_agent_until_they_leave(center: ContactCenter) -> None:
    conversation_sid, channel_url, first_task, alice = await accepted_interaction(center)
    response = await center.http.post(f"{channel_url}/Transfers",
                                      json={"from": alice["sid"], "to": center.queue_sid, "type": "warm"})
    assert response.status_code == 201, response.text
    (second,) = [task for task in await tasks_of(center) if task["sid"] != first_task]
    assert second["task_queue_sid"] == center.queue_sid
    await center.make_available(center.bob)
    await center.accept(second["sid"], center.bob)
    await center.wait_identities(conversation_sid, {"alice", "bob"})
    assert (await center.task(first_task))["assignment_status"] == "assigned"
    await center.post(f"{channel_url}/Participants/{alice['sid']}", {"Status": "closed"})
    await center.wait_identities(conversation_sid, {"bob"})
    assert (await center.task(first_task))["assignment_status"] == "completed"
    assert (await center.task(second["sid"]))["assignment_status"] == "assigned"



def invite_routing(center: ContactCenter, **properties: Any) -> dict[str, str]:
    return {"Routing": json.dumps({"properties": {
        "workspace_sid": center.workspace_sid, "workflow_sid": center.workflow_sid, "task_channel_unique_name": "chat",
        **properties}})}


async def test_an_invite_naming_a_worker_and_a_workflow_goes_to_that_worker(center: ContactCenter) -> None:
    _, channel_url, first_task, _ = await accepted_interaction(center)
    # Bob is not available, so the workflow alone would offer the task to nobody: the name decides.
    await center.post(f"{channel_url}/Invites", invite_routing(center, worker_sid=center.bob.sid))
    (invited,) = [task for task in await tasks_of(center) if task["sid"] != first_task]
    offered = await center.pending_reservation(invited["sid"], center.bob)
    assert offered["worker_sid"] == center.bob.sid


async def test_an_invite_is_never_offered_to_an_agent_already_in_the_channel(center: ContactCenter) -> None:
    _, channel_url, first_task, _ = await accepted_interaction(center)
    # Alice could take more chats: only being in this one keeps its invite away from her.
    await center.post(f"{center.ws}/Workers/{center.alice.sid}/Channels/chat", {"Capacity": "3"})
    await center.post(f"{channel_url}/Invites", invite_routing(center))
    (invited,) = [task for task in await tasks_of(center) if task["sid"] != first_task]
    # The barrier: a later customer's task, in the same queue, is offered to Alice; the invite waits.
    other = await center.inbound_interaction(await center.conversation_with_customer("+15550001999"))
    await center.pending_reservation(other["routing"]["properties"]["sid"], center.alice)
    assert (await center.get(f"{center.ws}/Tasks/{invited['sid']}/Reservations"))["reservations"] == []
    await center.make_available(center.bob)
    offered = await center.pending_reservation(invited["sid"])
    assert offered["worker_sid"] == center.bob.sid
