"""Flows (`/parley/v1/Flows`): CRUD, validation, and a studio-type address sending a customer to Flex."""

import json
from typing import Any

import httpx

from services.router.flows.definition import parse_definition
from services.router.flows.engine import SendMessage, SendToFlex, run, trigger_context
from tests.flex.conftest import CUSTOMER, PARLEY_NUMBER, ContactCenter
from tests.support.receiver import Receiver
from tests.support.waiting import eventually

ROOT = "/parley/v1/Flows"


def greeting_flow(workflow_sid: str) -> dict[str, Any]:
    return {"initial_state": "Trigger", "states": [
        {"name": "Trigger", "type": "trigger", "properties": {},
         "transitions": [{"event": "incomingMessage", "next": "Greet"}]},
        {"name": "Greet", "type": "send-message", "properties": {"body": "Hello {{trigger.message.Author}}!"},
         "transitions": [{"event": "sent", "next": "Topic"}]},
        {"name": "Topic", "type": "split-based-on", "properties": {"input": "{{trigger.message.Body}}"},
         "transitions": [
             {"event": "match", "next": "Billing", "conditions": [{"type": "contains", "value": "invoice"}]},
             {"event": "noMatch", "next": "General"}]},
        {"name": "Billing", "type": "set-variables", "properties": {"variables": [{"key": "team", "value": "billing"}]},
         "transitions": [{"event": "next", "next": "Flex"}]},
        {"name": "General", "type": "set-variables", "properties": {"variables": [{"key": "team", "value": "general"}]},
         "transitions": [{"event": "next", "next": "Flex"}]},
        {"name": "Flex", "type": "send-to-flex", "properties": {
            "workflow": workflow_sid, "channel": "chat",
            "attributes": json.dumps({"team": "{{flow.variables.team}}",
                                      "conversation": "{{trigger.conversation.ConversationSid}}"})},
         "transitions": []},
    ]}


WW = "WW" + "0" * 32


def test_the_engine_walks_greet_split_variables_and_send_to_flex() -> None:
    definition = parse_definition(greeting_flow(WW))
    trigger = trigger_context(conversation_sid="CH" + "1" * 32, author="+15557654321",
                              body="About my Invoice please", message_sid=None, participant_sid=None)
    walk = run(definition, trigger)
    assert walk.status == "ended" and walk.state == "Flex"
    assert walk.actions == [SendMessage(body="Hello +15557654321!"), SendToFlex(
        workflow_sid=WW, task_channel="chat", attributes={"team": "billing", "conversation": "CH" + "1" * 32})]
    other = run(definition, {**trigger, "message": {**trigger["message"], "Body": "hi"}})
    assert other.variables == {"team": "general"}


async def test_flow_crud(center: ContactCenter) -> None:
    definition = greeting_flow(center.workflow_sid)
    created = await center.post(ROOT, {"FriendlyName": "Inbound SMS", "Definition": json.dumps(definition)},
                                status=201)
    assert created["sid"].startswith("FW") and len(created["sid"]) == 34
    assert created["definition"] == definition and created["friendly_name"] == "Inbound SMS"
    assert created["url"].endswith(f"{ROOT}/{created['sid']}")
    assert await center.get(f"{ROOT}/{created['sid']}") == created

    second = await center.post(ROOT, {"FriendlyName": "Second", "Definition": json.dumps(definition)}, status=201)
    first_page = await center.get(ROOT, PageSize=1)
    assert [f["sid"] for f in first_page["flows"]] == [created["sid"]]
    assert first_page["meta"]["key"] == "flows" and first_page["meta"]["next_page_url"]
    next_page = (await center.http.get(first_page["meta"]["next_page_url"])).json()
    assert [f["sid"] for f in next_page["flows"]] == [second["sid"]]

    updated = await center.post(f"{ROOT}/{created['sid']}", {"FriendlyName": "Renamed"})
    assert updated["friendly_name"] == "Renamed" and updated["definition"] == definition

    async with center.parley.client() as http:
        other = (await http.post("/api/2010-04-01/Accounts.json", data={"FriendlyName": "other"})).json()
    async with httpx.AsyncClient(base_url=center.parley.base_url, auth=(other["sid"], other["auth_token"])) as stranger:
        response = await stranger.get(f"{ROOT}/{created['sid']}")
        assert response.status_code == 404 and response.json()["code"] == 20404
        assert (await stranger.delete(f"{ROOT}/{created['sid']}")).status_code == 404
        assert (await stranger.get(ROOT)).json()["flows"] == []

    assert (await center.http.delete(f"{ROOT}/{created['sid']}")).status_code == 204
    assert (await center.http.get(f"{ROOT}/{created['sid']}")).status_code == 404


async def test_an_invalid_definition_is_refused_naming_the_fault(center: ContactCenter) -> None:
    good = greeting_flow(center.workflow_sid)
    bad_next = json.loads(json.dumps(good))
    bad_next["states"][1]["transitions"][0]["next"] = "Nowhere"
    bad_type = json.loads(json.dumps(good))
    bad_type["states"][1]["type"] = "make-coffee"
    no_workflow = json.loads(json.dumps(good))
    del no_workflow["states"][-1]["properties"]["workflow"]
    cases = [("{not json", "not JSON"), (json.dumps({"states": []}), "states"),
             (json.dumps(bad_next), "Nowhere"), (json.dumps(bad_type), "make-coffee"),
             (json.dumps(no_workflow), "workflow")]
    for raw, fault in cases:
        response = await center.http.post(ROOT, data={"FriendlyName": "Bad", "Definition": raw})
        assert response.status_code == 400, raw
        body = response.json()
        assert body["code"] == 20001 and fault in body["message"], body
    response = await center.http.post(ROOT, data={"FriendlyName": "No definition"})
    assert response.status_code == 400
    assert (await center.get(ROOT))["flows"] == []

    # An update with a bad definition changes nothing.
    flow = await center.post(ROOT, {"FriendlyName": "Good", "Definition": json.dumps(good)}, status=201)
    response = await center.http.post(f"{ROOT}/{flow['sid']}", data={"FriendlyName": "Renamed",
                                                                     "Definition": json.dumps(bad_type)})
    assert response.status_code == 400 and "make-coffee" in response.json()["message"]
    assert await center.get(f"{ROOT}/{flow['sid']}") == flow


async def billing_routing(center: ContactCenter) -> tuple[str, str]:
    """A Billing queue only Bob is skilled for, and a workflow sending `team == "billing"` tasks there."""
    billing = await center.post(f"{center.ws}/TaskQueues", {"FriendlyName": "Billing",
                                                            "TargetWorkers": "skills HAS 'billing'"}, status=201)
    workflow = await center.post(f"{center.ws}/Workflows", {"FriendlyName": "By team", "Configuration": json.dumps(
        {"task_routing": {"filters": [{"filter_friendly_name": "Billing", "expression": "team == 'billing'",
                                       "targets": [{"queue": billing["sid"]}]}],
                          "default_filter": {"queue": center.queue_sid}}})}, status=201)
    await center.post(f"{center.ws}/Workers/{center.bob.sid}", {"Attributes": json.dumps(
        {"contact_uri": "client:bob", "skills": ["support", "billing"]})})
    return billing["sid"], workflow["sid"]


async def studio_address(center: ContactCenter, workflow_sid: str) -> None:
    """Parley's number as a studio-type address running the greeting flow, which sends to Flex by `workflow_sid`."""
    flow = await center.post(ROOT, {"FriendlyName": "Inbound SMS",
                                    "Definition": json.dumps(greeting_flow(workflow_sid))}, status=201)
    await center.post("/conversations/v1/Configuration/Addresses", {
        "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "studio",
        "AutoCreation.StudioFlowSid": flow["sid"]}, status=201)


async def chat_capacity_used(center: ContactCenter, worker_sid: str) -> int:
    channels = (await center.get(f"{center.ws}/Workers/{worker_sid}/Channels"))["channels"]
    return int(next(c for c in channels if c["task_channel_unique_name"] == "chat")["assigned_tasks"])


async def test_flow_journey_from_inbound_sms_to_close(center: ContactCenter, receiver: Receiver) -> None:
    """The whole path: inbound SMS on a studio-type address → greeting → Send to Flex → task in the queue the
    workflow picks → reservation for the one available skilled agent → accept → agent is a participant → his reply
    reaches the carrier → the customer's reply reaches the conversation → wrap-up → close: conversation closed, task
    completed, the agent's capacity back. The business's webhook receiver hears the task's life and the close."""
    await center.post(center.ws, {"EventCallbackUrl": f"{receiver.url}/taskrouter",
                                  "EventsFilter": "task.created,reservation.accepted,task.wrapup,task.completed"})
    await center.post("/conversations/v1/Configuration/Webhooks", {
        "PostWebhookUrl": f"{receiver.url}/conversations", "Method": "POST",
        "Filters": "onConversationStateUpdated", "Target": "webhook"})
    billing_sid, workflow_sid = await billing_routing(center)
    await studio_address(center, workflow_sid)
    await center.make_available(center.alice)  # available, but not skilled for billing
    await center.make_available(center.bob)

    await center.customer_writes("A question about my invoice")

    # The flow greets the customer on the SMS channel.
    (greeting,) = await center.carrier.wait_for(1)
    assert greeting.field("To") == CUSTOMER and greeting.field("From") == PARLEY_NUMBER
    assert greeting.field("Body") == f"Hello {CUSTOMER}!"

    # Send to Flex: a task in the queue the workflow picks, with the flow's attributes, reserved for Bob alone.
    async def tasks() -> list[dict[str, Any]]:
        return list((await center.get(f"{center.ws}/Tasks"))["tasks"])

    (task,) = await eventually(tasks, what="the flow's task")
    attributes = json.loads(task["attributes"])
    conversation_sid = attributes["conversationSid"]
    assert attributes["team"] == "billing" and attributes["conversation"] == conversation_sid
    assert attributes["initiatedBy"] == "customer" and attributes["customerAddress"] == CUSTOMER
    assert task["task_queue_sid"] == billing_sid and task["task_channel_unique_name"] == "chat"
    reservation = await center.pending_reservation(task["sid"])
    assert reservation["worker_sid"] == center.bob.sid
    reservations = (await center.get(f"{center.ws}/Tasks/{task['sid']}/Reservations"))["reservations"]
    assert [r["worker_sid"] for r in reservations] == [center.bob.sid]
    messages = f"/conversations/v1/Conversations/{conversation_sid}/Messages"
    assert [(m["author"], m["body"]) for m in (await center.get(messages))["messages"]] == [
        (CUSTOMER, "A question about my invoice"), ("system", f"Hello {CUSTOMER}!")]

    # The customer writes again: the ended flow does not restart (no second greeting, no second task).
    await center.customer_writes("Anyone there?")
    await eventually(lambda: center.get(messages), until=lambda found: len(found["messages"]) == 3,
                     what="the second message")
    await center.accept(task["sid"], center.bob)
    await center.wait_identities(conversation_sid, {"bob"})
    assert len(center.carrier.requests) == 1 and len(await tasks()) == 1
    assert await chat_capacity_used(center, center.bob.sid) == 1

    # The agent's reply reaches the customer's phone; the customer's reply lands in the conversation.
    await center.post(messages, {"Author": "bob", "Body": "Bob here, let me look"}, status=201)
    reply = (await center.carrier.wait_for(2))[1]
    assert reply.field("To") == CUSTOMER and reply.field("Body") == "Bob here, let me look"
    await center.customer_writes("Thank you!")
    found = await eventually(lambda: center.get(messages), until=lambda m: len(m["messages"]) == 5,
                             what="the customer's reply")
    assert (found["messages"][-1]["author"], found["messages"][-1]["body"]) == (CUSTOMER, "Thank you!")

    # Wrap-up: the task wraps and Bob's capacity stays held; close: task completed, conversation closed,
    # capacity back.
    channel_url = (f"/flex-api/v1/Interactions/{attributes['flexInteractionSid']}/Channels/"
                   f"{attributes['flexInteractionChannelSid']}")
    agent = next(p for p in (await center.get(f"{channel_url}/Participants"))["participants"] if p["type"] == "agent")
    await center.post(f"{channel_url}/Participants/{agent['sid']}", {"Status": "wrapup"})
    assert (await center.task(task["sid"]))["assignment_status"] == "wrapping"
    assert await chat_capacity_used(center, center.bob.sid) == 1
    closed = await center.post(channel_url, {"Status": "closed", "Routing": json.dumps({"status": "closed"})})
    assert closed["status"] == "closed"
    assert (await center.task(task["sid"]))["assignment_status"] == "completed"
    await eventually(lambda: center.conversation(conversation_sid), until=lambda c: c["state"] == "closed",
                     what="the conversation closed")
    assert await chat_capacity_used(center, center.bob.sid) == 0

    events = await receiver.wait_for(4, where=lambda r: r.path == "/taskrouter")
    assert [e.field("EventType") for e in events] == [
        "task.created", "reservation.accepted", "task.wrapup", "task.completed"]
    assert all(e.field("TaskSid") == task["sid"] for e in events)
    assert all(e.has_valid_signature(center.parley.account.auth_token) for e in events)
    (closing,) = await receiver.wait_for(1, where=lambda r: r.path == "/conversations")
    assert closing.field("EventType") == "onConversationStateUpdated" and closing.field("StateTo") == "closed"
    assert closing.field("ConversationSid") == conversation_sid


async def test_a_customer_who_writes_again_after_close_gets_a_new_conversation_and_a_new_task(
    center: ContactCenter,
) -> None:
    """Nothing but the customer's messages starts anything here: the address's flow sends each new conversation
    to Flex; a closed conversation is not reopened, and its task stays completed."""
    await studio_address(center, center.workflow_sid)
    await center.make_available(center.alice)

    async def tasks() -> list[dict[str, Any]]:
        return list((await center.get(f"{center.ws}/Tasks"))["tasks"])

    await center.customer_writes("Hello")
    (first,) = await eventually(tasks, what="the flow's task")
    first_attributes = json.loads(first["attributes"])
    first_conversation = first_attributes["conversationSid"]
    await center.accept(first["sid"], center.alice)
    await center.wait_identities(first_conversation, {"alice"})
    channel_url = (f"/flex-api/v1/Interactions/{first_attributes['flexInteractionSid']}/Channels/"
                   f"{first_attributes['flexInteractionChannelSid']}")
    await center.post(channel_url, {"Status": "closed", "Routing": json.dumps({"status": "closed"})})
    await eventually(lambda: center.conversation(first_conversation), until=lambda c: c["state"] == "closed",
                     what="the first conversation closed")
    assert await chat_capacity_used(center, center.alice.sid) == 0

    await center.customer_writes("Me again")

    found = await eventually(tasks, until=lambda found: len(found) == 2, what="a second task")
    (second,) = [task for task in found if task["sid"] != first["sid"]]
    attributes = json.loads(second["attributes"])
    assert attributes["customerAddress"] == CUSTOMER and attributes["initiatedBy"] == "customer"
    assert attributes["conversationSid"] != first_conversation
    assert attributes["flexInteractionSid"] != first_attributes["flexInteractionSid"]
    fresh = await center.conversation(attributes["conversationSid"])
    assert fresh["state"] == "active"
    opening = (await center.get(f"/conversations/v1/Conversations/{fresh['sid']}/Messages"))["messages"][0]
    assert (opening["author"], opening["body"]) == (CUSTOMER, "Me again")
    # The new conversation ran the flow again: a second greeting.
    assert [r.field("Body") for r in await center.carrier.wait_for(2)] == [f"Hello {CUSTOMER}!"] * 2
    assert (await center.pending_reservation(second["sid"]))["worker_sid"] == center.alice.sid

    # The old ones stay as they ended.
    assert (await center.conversation(first_conversation))["state"] == "closed"
    assert (await center.task(first["sid"]))["assignment_status"] == "completed"
    old = await center.get(f"/conversations/v1/Conversations/{first_conversation}/Messages")
    assert "Me again" not in [m["body"] for m in old["messages"]]
