"""Flex Flows (`/flex-api/v1/FlexFlows`): CRUD, paging, errors, and what they do for inbound messages."""

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx

from services.router.domain.flex_flows import FlexFlow
from tests.flex.conftest import CUSTOMER, PARLEY_NUMBER, ContactCenter
from tests.flex.test_flows import greeting_flow
from tests.support.receiver import Receiver
from tests.support.waiting import eventually

ROOT = "/flex-api/v1/FlexFlows"
SERVICE = "IS" + "a" * 32


def studio_form(flow_sid: str, **extra: Any) -> dict[str, Any]:
    return {"FriendlyName": "SMS to Flex", "ChatServiceSid": SERVICE, "ChannelType": "sms",
            "ContactIdentity": PARLEY_NUMBER, "IntegrationType": "studio", "Integration.FlowSid": flow_sid, **extra}


def task_form(center: ContactCenter, **extra: Any) -> dict[str, Any]:
    return {"FriendlyName": "SMS straight to a task", "ChatServiceSid": SERVICE, "ChannelType": "sms",
            "ContactIdentity": PARLEY_NUMBER, "IntegrationType": "task",
            "Integration.WorkspaceSid": center.workspace_sid, "Integration.WorkflowSid": center.workflow_sid,
            "Integration.Channel": "chat", "Integration.Priority": "5", **extra}


async def a_flow(center: ContactCenter) -> dict[str, Any]:
    return await center.post("/parley/v1/Flows", {"FriendlyName": "Greeting",
                                                  "Definition": json.dumps(greeting_flow(center.workflow_sid))},
                             status=201)


async def tasks_of(center: ContactCenter) -> list[dict[str, Any]]:
    return list((await center.get(f"{center.ws}/Tasks"))["tasks"])


async def test_flex_flow_crud_paging_and_errors(center: ContactCenter) -> None:
    flow = await a_flow(center)
    created = await center.post(ROOT, studio_form(flow["sid"], **{"Integration.RetryCount": "1",
                                                                  "LongLived": "true"}), status=201)
    assert created["sid"].startswith("FO") and len(created["sid"]) == 34
    assert created["account_sid"] == center.parley.account.sid
    assert {key: created[key] for key in ("friendly_name", "chat_service_sid", "channel_type", "contact_identity",
                                          "enabled", "integration_type", "long_lived", "janitor_enabled")} == {
        "friendly_name": "SMS to Flex", "chat_service_sid": SERVICE, "channel_type": "sms",
        "contact_identity": PARLEY_NUMBER, "enabled": True, "integration_type": "studio", "long_lived": True,
        "janitor_enabled": False}
    assert created["integration"] == {"flow_sid": flow["sid"], "retry_count": 1}
    assert created["url"].endswith(f"{ROOT}/{created['sid']}") and created["date_created"].endswith("Z")
    assert await center.get(f"{ROOT}/{created['sid']}") == created

    web = await center.post(ROOT, {"FriendlyName": "Web", "ChatServiceSid": SERVICE, "ChannelType": "web",
                                   "Integration.WorkspaceSid": center.workspace_sid,
                                   "Integration.WorkflowSid": center.workflow_sid}, status=201)
    assert web["integration_type"] == "task"  # inferred from the Integration.* fields sent
    assert web["integration"] == {"workspace_sid": center.workspace_sid, "workflow_sid": center.workflow_sid,
                                  "channel": "default", "timeout": 86400, "priority": 0, "creation_on_message": False}
    first = await center.get(ROOT, PageSize=1)
    assert first["meta"]["key"] == "flex_flows" and [f["sid"] for f in first["flex_flows"]] == [created["sid"]]
    following = (await center.http.get(first["meta"]["next_page_url"])).json()
    assert [f["sid"] for f in following["flex_flows"]] == [web["sid"]]
    assert following["meta"]["next_page_url"] is None
    assert [f["sid"] for f in (await center.get(ROOT, FriendlyName="Web"))["flex_flows"]] == [web["sid"]]

    updated = await center.post(f"{ROOT}/{created['sid']}", {"FriendlyName": "Renamed", "Enabled": "false"})
    assert updated["friendly_name"] == "Renamed" and updated["enabled"] is False
    assert updated["integration"] == created["integration"]  # untouched fields stay

    # Bad input is refused with Twilio's error shape and changes nothing.
    for form, fault in (
        ({**studio_form(flow["sid"]), "ChannelType": "pigeon"}, "ChannelType"),
        ({k: v for k, v in studio_form(flow["sid"]).items() if k != "ChatServiceSid"}, "ChatServiceSid"),
        ({**studio_form(flow["sid"]), "ChatServiceSid": "nope"}, "ChatServiceSid"),
        ({k: v for k, v in studio_form(flow["sid"]).items() if k != "Integration.FlowSid"}, "FlowSid"),
        (studio_form("FW" + "0" * 32), "FlowSid"),
        ({**task_form(center), "Integration.WorkflowSid": "WW" + "0" * 32}, "WorkflowSid"),
        ({**studio_form(flow["sid"]), "IntegrationType": "external"}, "Integration.Url"),
        ({**studio_form(flow["sid"]), "Integration.RetryCount": "9"}, "RetryCount"),
    ):
        response = await center.http.post(ROOT, data=form)
        assert response.status_code == 400, (form, response.text)
        body = response.json()
        assert body["code"] in (20001, 20002) and fault in body["message"] and body["more_info"], body
    response = await center.http.post(f"{ROOT}/{created['sid']}", data={"IntegrationType": "task"})
    assert response.status_code == 400
    assert (await center.get(f"{ROOT}/{created['sid']}")) == updated

    # One enabled flow per address and channel type.
    await center.post(f"{ROOT}/{created['sid']}", {"Enabled": "true"})
    taken = await center.http.post(ROOT, data=task_form(center))
    assert taken.status_code == 409 and taken.json()["code"] == 90803
    assert len((await center.get(ROOT))["flex_flows"]) == 2

    async with center.parley.client() as http:
        other = (await http.post("/api/2010-04-01/Accounts.json", data={"FriendlyName": "other"})).json()
    async with httpx.AsyncClient(base_url=center.parley.base_url, auth=(other["sid"], other["auth_token"])) as stranger:
        assert (await stranger.get(f"{ROOT}/{created['sid']}")).status_code == 404
        assert (await stranger.delete(f"{ROOT}/{created['sid']}")).status_code == 404
        assert (await stranger.get(ROOT)).json()["flex_flows"] == []

    assert (await center.http.delete(f"{ROOT}/{created['sid']}")).status_code == 204
    missing = await center.http.get(f"{ROOT}/{created['sid']}")
    assert missing.status_code == 404 and missing.json()["code"] == 20404


async def test_inbound_to_a_studio_flex_flow_address_runs_its_flow(center: ContactCenter) -> None:
    """No address configuration for the number: the Flex Flow answering it creates the conversation and runs
    its flow: greeting, then Send to Flex to the skilled agent."""
    flow = await a_flow(center)
    await center.post(ROOT, studio_form(flow["sid"]), status=201)
    await center.make_available(center.alice)

    await center.customer_writes("About my invoice")
    (greeting,) = await center.carrier.wait_for(1)
    assert greeting.field("To") == CUSTOMER and greeting.field("Body") == f"Hello {CUSTOMER}!"
    (task,) = await eventually(lambda: tasks_of(center), what="the flow's task")
    attributes = json.loads(task["attributes"])
    assert attributes["team"] == "billing" and attributes["channelType"] == "sms"
    assert (await center.pending_reservation(task["sid"]))["worker_sid"] == center.alice.sid


async def test_inbound_to_a_task_flex_flow_creates_the_task_directly(
    center: ContactCenter,
) -> None:
    flex_flow = await center.post(ROOT, task_form(center), status=201)
    await center.make_available(center.alice)

    await center.customer_writes("Hello?")
    (task,) = await eventually(lambda: tasks_of(center), what="the Flex Flow's task")
    attributes = json.loads(task["attributes"])
    assert attributes["flexFlowSid"] == flex_flow["sid"] and attributes["customerAddress"] == CUSTOMER
    assert attributes["channelType"] == "sms" and attributes["initiatedBy"] == "customer"
    assert task["priority"] == 5 and task["task_channel_unique_name"] == "chat"
    assert task["task_queue_sid"] == center.queue_sid
    conversation_sid = attributes["conversationSid"]
    await center.accept(task["sid"])
    await center.wait_identities(conversation_sid, {"alice"})
    assert center.carrier.requests == []  # a task integration sends nothing of its own

    # The customer writes again in the open conversation: no second task.
    await center.customer_writes("Still there?")
    await eventually(lambda: center.get(f"/conversations/v1/Conversations/{conversation_sid}/Messages"),
                     until=lambda found: len(found["messages"]) == 2, what="the second message")
    assert len(await tasks_of(center)) == 1



async def test_a_burst_of_new_customers_on_a_task_flex_flow_each_get_a_task(center: ContactCenter) -> None:
    # More customers at once than the router's pool has connections: each flow message's handler creates the
    # interaction on a connection of its own while holding one, which once hung the router for good.
    await center.post(ROOT, task_form(center), status=201)
    customers = [f"+1555200{n:04d}" for n in range(24)]
    await asyncio.gather(*(center.customer_writes(f"Hello from {who}", customer=who) for who in customers))
    found = await eventually(lambda: tasks_of(center), until=lambda tasks: len(tasks) == len(customers),
                             timeout=60, what="a task for every customer")
    assert {json.loads(task["attributes"])["customerAddress"] for task in found} == set(customers)


async def test_an_address_configuration_takes_precedence_over_a_flex_flow(center: ContactCenter) -> None:
    await center.post(ROOT, task_form(center), status=201)
    await center.post("/conversations/v1/Configuration/Addresses", {
        "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "default"},
        status=201)
    await center.customer_writes("First")
    (conversation,) = (await eventually(lambda: center.get("/conversations/v1/Conversations"),
                                        until=lambda found: len(found["conversations"]) == 1,
                                        what="the auto-created conversation"))["conversations"]
    await center.customer_writes("Second")
    await eventually(lambda: center.get(f"/conversations/v1/Conversations/{conversation['sid']}/Messages"),
                     until=lambda found: len(found["messages"]) == 2, what="the second message")
    assert await tasks_of(center) == []
    # The conversation is free for an interaction of the business's own: the Flex Flow made none.
    created = await center.inbound_interaction(conversation["sid"])
    assert created["routing"]["properties"]["sid"].startswith("WT")


async def test_a_disabled_or_deleted_flex_flow_answers_nothing(center: ContactCenter) -> None:
    flex_flow = await center.post(ROOT, task_form(center, Enabled="false"), status=201)
    assert flex_flow["enabled"] is False
    await center.customer_writes("Anyone?")
    parked = await eventually(lambda: center.get("/parley/v1/DeadLetters"),
                              until=lambda found: len(found.get("dead_letters", [])) == 1, what="a parked message")
    assert parked
    assert (await center.get("/conversations/v1/Conversations"))["conversations"] == []
    await center.post(f"{ROOT}/{flex_flow['sid']}", {"Enabled": "true"})
    assert (await center.http.delete(f"{ROOT}/{flex_flow['sid']}")).status_code == 204
    await center.customer_writes("Anyone now?")
    await eventually(lambda: center.get("/parley/v1/DeadLetters"),
                     until=lambda found: len(found.get("dead_letters", [])) == 2, what="a second parked message")
    assert await tasks_of(center) == []


async def test_an_external_flex_flow_posts_the_conversations_messages_to_its_url(center: ContactCenter,
                                                                                  receiver: Receiver) -> None:
    await center.post(ROOT, {"FriendlyName": "To our bot", "ChatServiceSid": SERVICE, "ChannelType": "sms",
                             "ContactIdentity": PARLEY_NUMBER, "IntegrationType": "external",
                             "Integration.Url": f"{receiver.url}/bot"}, status=201)
    await center.customer_writes("Is anyone there?")
    (hook,) = await receiver.wait_for(1, where=lambda r: r.path == "/bot")
    assert hook.field("EventType") == "onMessageAdded" and hook.field("Body") == "Is anyone there?"
    assert hook.field("Author") == CUSTOMER
    assert hook.has_valid_signature(center.parley.account.auth_token)
    assert await tasks_of(center) == [] and center.carrier.requests == []


def test_the_address_a_flex_flow_answers() -> None:
    now = datetime.now(UTC)

    def flow(channel_type: str, identity: str | None, enabled: bool = True) -> FlexFlow:
        return FlexFlow(sid="FO" + "0" * 32, account_sid="AC" + "0" * 32, friendly_name="f", chat_service_sid=SERVICE,
                        channel_type=channel_type, contact_identity=identity, enabled=enabled,
                        integration_type="task", integration={}, long_lived=False, janitor_enabled=False,
                        date_created=now, date_updated=now)

    assert flow("sms", PARLEY_NUMBER).answers_address == PARLEY_NUMBER
    assert flow("whatsapp", PARLEY_NUMBER).answers_address == f"whatsapp:{PARLEY_NUMBER}"
    assert flow("whatsapp", f"whatsapp:{PARLEY_NUMBER}").answers_address == f"whatsapp:{PARLEY_NUMBER}"
    assert flow("sms", PARLEY_NUMBER, enabled=False).answers_address is None
    assert flow("web", "anything").answers_address is None and flow("sms", None).answers_address is None
