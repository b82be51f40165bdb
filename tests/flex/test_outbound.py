"""Agent-initiated and system-initiated contact: Parley creates the conversation, the message goes out."""

import json
from typing import Any

from tests.flex.conftest import PARLEY_NUMBER, ContactCenter
from tests.flex.test_agent_tokens import agent_token
from tests.support.waiting import eventually

NEW_CUSTOMER = "+15559990000"


def outbound_channel(initiated_by: str) -> str:
    return json.dumps({"type": "sms", "initiated_by": initiated_by,
                       "participants": [{"address": NEW_CUSTOMER, "proxy_address": PARLEY_NUMBER}]})


async def messages_of(center: ContactCenter, conversation_sid: str) -> list[dict]:
    return (await center.get(f"/conversations/v1/Conversations/{conversation_sid}/Messages"))["messages"]


async def test_agent_initiated_outbound_is_accepted_for_that_agent_and_its_message_is_sent(center: ContactCenter) -> None:
    created = await center.post("/flex-api/v1/Interactions", {
        "Channel": outbound_channel("agent"),
        "Routing": json.dumps({"properties": {
            "workspace_sid": center.workspace_sid, "workflow_sid": center.workflow_sid, "queue_sid": center.queue_sid,
            "worker_sid": center.alice.sid, "task_channel_unique_name": "chat", "attributes": {"from": "Alice"}}}),
    })
    task = created["routing"]["properties"]
    assert task["assignment_status"] == "assigned" and task["routing_target"] == center.alice.sid
    attributes = json.loads(task["attributes"])
    assert attributes["direction"] == "outbound" and attributes["initiatedBy"] == "agent"
    assert attributes["customerAddress"] == NEW_CUSTOMER
    conversation_sid = attributes["conversationSid"]
    # No reservation to accept: it was accepted for the agent, who is in the conversation.
    (reservation,) = (await center.get(f"{center.ws}/Tasks/{task['sid']}/Reservations"))["reservations"]
    assert reservation["reservation_status"] == "accepted" and reservation["worker_sid"] == center.alice.sid
    await center.wait_identities(conversation_sid, {"alice"})

    await center.post(f"/conversations/v1/Conversations/{conversation_sid}/Messages",
                      {"Author": "alice", "Body": "Hello from Parley"}, status=201)
    (sent,) = await center.carrier.wait_for(1)
    assert sent.field("To") == NEW_CUSTOMER and sent.field("Body") == "Hello from Parley"

    # The customer's reply lands in the same conversation.
    await center.customer_writes("Thanks!", customer=NEW_CUSTOMER)
    await eventually(lambda: messages_of(center, conversation_sid), until=lambda found: len(found) == 2,
                     what="the reply in the conversation")
    assert len(center.carrier.requests) == 1


async def test_agent_initiated_needs_queue_and_worker(center: ContactCenter) -> None:
    response = await center.http.post("/flex-api/v1/Interactions", data={
        "Channel": outbound_channel("agent"),
        "Routing": json.dumps({"properties": {"workspace_sid": center.workspace_sid}})})
    assert response.status_code == 400
    conversations = await center.get("/conversations/v1/Conversations")
    assert conversations["conversations"] == []


async def test_system_initiated_contact_routes_an_inbound_task_and_the_agent_sees_the_reply(
    center: ContactCenter,
) -> None:
    created = await center.post("/flex-api/v1/Interactions", {
        "Channel": outbound_channel("api"),
        "Routing": json.dumps({"properties": {"workspace_sid": center.workspace_sid,
                                              "workflow_sid": center.workflow_sid,
                                              "task_channel_unique_name": "chat"}}),
    })
    task = created["routing"]["properties"]
    attributes = json.loads(task["attributes"])
    assert attributes["direction"] == "inbound" and attributes["initiatedBy"] == "api"
    conversation_sid = attributes["conversationSid"]
    await center.post(f"/conversations/v1/Conversations/{conversation_sid}/Messages",
                      {"Author": "system", "Body": "Your appointment is tomorrow"}, status=201)
    (sent,) = await center.carrier.wait_for(1)
    assert sent.field("To") == NEW_CUSTOMER

    await center.make_available(center.bob)
    await center.accept(task["sid"], center.bob)
    await center.wait_identities(conversation_sid, {"bob"})
    await center.customer_writes("Can we move it?", customer=NEW_CUSTOMER)

    # Bob, holding the task, reads the reply with his own access token; Alice, who holds nothing here, may not.
    messages = f"/conversations/v1/Conversations/{conversation_sid}/Messages"
    async with await agent_token(center, center.bob) as bob, await agent_token(center, center.alice) as alice:
        async def seen_by_bob() -> list[dict[str, Any]]:
            response = await bob.get(messages)
            assert response.status_code == 200, response.text
            return list(response.json()["messages"])

        found = await eventually(seen_by_bob, until=lambda found: len(found) == 2, what="the reply, as Bob sees it")
        assert [(m["author"], m["body"]) for m in found] == [
            ("system", "Your appointment is tomorrow"), (NEW_CUSTOMER, "Can we move it?")]
        refused = await alice.get(messages)  # as to any chat user not in the conversation: not found
        assert (refused.status_code, refused.json()["code"]) == (404, 20404), refused.text
    assert len(center.carrier.requests) == 1
