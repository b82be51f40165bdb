"""Flex Interactions through HTTP: inbound to an agent, accept, reply, wrap-up and close; outbound starts."""

import json

from tests.flex.conftest import CUSTOMER, PARLEY_NUMBER, ContactCenter
from tests.support.waiting import eventually


async def test_inbound_interaction_creates_a_flex_task_and_accept_puts_the_agent_in_the_conversation(
    center: ContactCenter,
) -> None:
    conversation_sid = await center.conversation_with_customer()
    created = await center.inbound_interaction(conversation_sid)

    assert created["sid"].startswith("KD")
    assert created["channel"]["type"] == "sms" and created["channel"]["sid"].startswith("UO")
    task = created["routing"]["properties"]
    assert task["sid"].startswith("WT") and task["workspace_sid"] == center.workspace_sid
    assert task["task_channel_unique_name"] == "chat" and task["queue_sid"] == center.queue_sid
    attributes = json.loads(task["attributes"])
    assert attributes["conversationSid"] == conversation_sid
    assert attributes["flexInteractionSid"] == created["sid"]
    assert attributes["flexInteractionChannelSid"] == created["channel"]["sid"]
    assert attributes["channelType"] == "sms" and attributes["initiatedBy"] == "customer"
    assert attributes["direction"] == "inbound" and attributes["customerAddress"] == CUSTOMER
    assert attributes["from"] == "Customer"
    assert attributes["conversations"]["media"] == [{"type": "ChatTranscript", "sid": conversation_sid}]
    assert attributes["conversations"]["communication_channel"] == "Sms"

    fetched = await center.get(f"/flex-api/v1/Interactions/{created['sid']}")
    assert fetched["channel"] == created["channel"]
    channel_url = f"/flex-api/v1/Interactions/{created['sid']}/Channels/{created['channel']['sid']}"
    listed = await center.get(f"/flex-api/v1/Interactions/{created['sid']}/Channels")
    assert [c["sid"] for c in listed["channels"]] == [created["channel"]["sid"]]
    assert (await center.get(channel_url))["status"] == "active"

    await center.make_available(center.alice)
    reservation = await center.accept(task["sid"])
    assert reservation["reservation_status"] == "accepted"
    await center.wait_identities(conversation_sid, {"alice"})
    participants = (await center.get(f"{channel_url}/Participants"))["participants"]
    agent = next(p for p in participants if p["type"] == "agent")
    assert agent["routing_properties"] == {"task_sid": task["sid"], "worker_sid": center.alice.sid,
                                           "reservation_sid": reservation["sid"]}
    assert {p["type"] for p in participants} == {"agent", "customer"}

    # The agent's reply goes out to the customer's phone, once.
    await center.post(f"/conversations/v1/Conversations/{conversation_sid}/Messages",
                      {"Author": "alice", "Body": "Hi, Alice here"}, status=201)
    (sent,) = await center.carrier.wait_for(1)
    assert sent.field("To") == CUSTOMER and sent.field("From") == PARLEY_NUMBER and sent.field("Body") == "Hi, Alice here"

    # Wrap-up: the task wraps; then closing with Routing closed completes it and closes the conversation.
    await center.post(f"{channel_url}/Participants/{agent['sid']}", {"Status": "wrapup"})
    assert (await center.task(task["sid"]))["assignment_status"] == "wrapping"
    closed = await center.post(channel_url, {"Status": "closed", "Routing": json.dumps({"status": "closed"})})
    assert closed["status"] == "closed"
    assert (await center.task(task["sid"]))["assignment_status"] == "completed"
    await eventually(lambda: center.conversation(conversation_sid), until=lambda c: c["state"] == "closed",
                     what="the conversation closed")
    channels = await center.get(f"{center.ws}/Workers/{center.alice.sid}/Channels/chat")
    assert channels["assigned_tasks"] == 0
    assert len(center.carrier.requests) == 1


async def test_closing_the_channel_without_routing_wraps_the_task(center: ContactCenter) -> None:
    conversation_sid = await center.conversation_with_customer()
    created = await center.inbound_interaction(conversation_sid)
    task_sid = created["routing"]["properties"]["sid"]
    await center.make_available(center.alice)
    await center.accept(task_sid)
    channel_url = f"/flex-api/v1/Interactions/{created['sid']}/Channels/{created['channel']['sid']}"
    await center.post(channel_url, {"Status": "closed"})
    assert (await center.task(task_sid))["assignment_status"] == "wrapping"


async def test_agent_participant_closed_leaves_the_conversation_and_completes_the_task(center: ContactCenter) -> None:
    conversation_sid = await center.conversation_with_customer()
    created = await center.inbound_interaction(conversation_sid)
    task_sid = created["routing"]["properties"]["sid"]
    await center.make_available(center.alice)
    await center.accept(task_sid)
    await center.wait_identities(conversation_sid, {"alice"})
    channel_url = f"/flex-api/v1/Interactions/{created['sid']}/Channels/{created['channel']['sid']}"
    agent = next(p for p in (await center.get(f"{channel_url}/Participants"))["participants"] if p["type"] == "agent")
    await center.post(f"{channel_url}/Participants/{agent['sid']}", {"Status": "closed"})
    assert (await center.task(task_sid))["assignment_status"] == "completed"
    await center.wait_identities(conversation_sid, set())


async def test_a_conversation_with_an_open_interaction_gets_no_second_task(center: ContactCenter) -> None:
    conversation_sid = await center.conversation_with_customer()
    await center.inbound_interaction(conversation_sid)
    response = await center.http.post("/flex-api/v1/Interactions", data={
        "Channel": json.dumps({"type": "sms", "initiated_by": "customer",
                               "properties": {"media_channel_sid": conversation_sid}}),
        "Routing": json.dumps({"properties": {"workspace_sid": center.workspace_sid,
                                              "workflow_sid": center.workflow_sid}})})
    assert response.status_code == 409, response.text
    tasks = await center.get(f"{center.ws}/Tasks")
    assert len(tasks["tasks"]) == 1


async def test_bad_channel_json_and_unknown_conversation_are_refused(center: ContactCenter) -> None:
    routing = json.dumps({"properties": {"workspace_sid": center.workspace_sid, "workflow_sid": center.workflow_sid}})
    for channel, status in ((json.dumps({"type": "pigeon", "initiated_by": "customer"}), 400),
                            ("{not json", 400),
                            (json.dumps({"type": "sms", "initiated_by": "customer"}), 400),
                            (json.dumps({"type": "sms", "initiated_by": "customer",
                                         "properties": {"media_channel_sid": "CH" + "0" * 32}}), 400)):
        response = await center.http.post("/flex-api/v1/Interactions", data={"Channel": channel, "Routing": routing})
        assert response.status_code == status, response.text
        assert response.json()["code"] == 20001
    assert (await center.get(f"{center.ws}/Tasks"))["tasks"] == []
    missing = await center.http.get("/flex-api/v1/Interactions/KD" + "0" * 32)
    assert missing.status_code == 404
