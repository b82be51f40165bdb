"""The same journey through the official `twilio` library, with flex_api, taskrouter and conversations at Parley."""

import json
from typing import Any

from twilio.rest import Client

from tests.flex.conftest import CUSTOMER, PARLEY_NUMBER, Agent, ContactCenter
from tests.flex.test_flex_flows import SERVICE
from tests.flex.test_flows import billing_routing, greeting_flow
from tests.flex.test_outbound import NEW_CUSTOMER
from tests.support.twilio_client import call
from tests.support.waiting import eventually


def library(center: ContactCenter) -> Client:
    client = Client(center.parley.account.sid, center.parley.account.auth_token)
    client.flex_api.base_url = f"{center.parley.base_url}/flex-api"
    client.taskrouter.base_url = f"{center.parley.base_url}/taskrouter"
    client.conversations.base_url = f"{center.parley.base_url}/conversations"
    return client


def routing(center: ContactCenter, **properties: Any) -> dict[str, Any]:
    return {"properties": {"workspace_sid": center.workspace_sid, "workflow_sid": center.workflow_sid,
                           "task_channel_unique_name": "chat", **properties}}


async def inbound_interaction(client: Client, center: ContactCenter, conversation_sid: str) -> Any:
    return await call(client.flex_api.v1.interaction.create,
                      channel={"type": "sms", "initiated_by": "customer",
                               "properties": {"media_channel_sid": conversation_sid}},
                      routing=routing(center))


async def available_and_accepting(client: Client, center: ContactCenter, task_sid: str, agent: Agent) -> str:
    """The agent becomes available and accepts its reservation of the task, all through the library; its SID."""
    workspace = client.taskrouter.v1.workspaces(center.workspace_sid)
    await call(workspace.workers(agent.sid).update, activity_sid=center.available_sid)
    (offer,) = await eventually(lambda: call(workspace.tasks(task_sid).reservations.list, reservation_status="pending"),
                                what=f"{agent.identity}'s reservation")
    assert offer.worker_sid == agent.sid
    accepted = await call(workspace.tasks(task_sid).reservations(offer.sid).update, reservation_status="accepted")
    assert accepted.reservation_status == "accepted"
    return str(offer.sid)


async def test_interaction_journey_through_the_twilio_library(center: ContactCenter) -> None:
    client = library(center)
    conversation_sid = await center.conversation_with_customer()
    interaction = await inbound_interaction(client, center, conversation_sid)
    assert interaction.sid.startswith("KD")
    channel_sid = interaction.channel["sid"]
    task_sid = interaction.routing["properties"]["sid"]
    fetched = await call(client.flex_api.v1.interaction(interaction.sid).fetch)
    assert fetched.channel["sid"] == channel_sid
    (channel,) = await call(client.flex_api.v1.interaction(interaction.sid).channels.list)
    assert channel.sid == channel_sid and channel.status == "active" and channel.type == "sms"

    workspace = client.taskrouter.v1.workspaces(center.workspace_sid)
    reservation = await available_and_accepting(client, center, task_sid, center.alice)
    await center.wait_identities(conversation_sid, {"alice"})

    channel_api = client.flex_api.v1.interaction(interaction.sid).channels(channel_sid)
    participants = await call(channel_api.participants.list)
    agent = next(p for p in participants if p.type == "agent")
    assert agent.routing_properties["reservation_sid"] == reservation

    await call(client.conversations.v1.conversations(conversation_sid).messages.create, author="alice", body="Hello")
    await center.carrier.wait_for(1)

    wrapped = await call(channel_api.participants(agent.sid).update, status="wrapup")
    assert wrapped.sid == agent.sid
    assert (await call(workspace.tasks(task_sid).fetch)).assignment_status == "wrapping"
    closed = await call(channel_api.update, status="closed", routing={"status": "closed"})
    assert closed.status == "closed"
    assert (await call(workspace.tasks(task_sid).fetch)).assignment_status == "completed"
    await eventually(lambda: center.conversation(conversation_sid), until=lambda c: c["state"] == "closed",
                     what="the conversation closed")
    assert json.loads((await call(workspace.tasks(task_sid).fetch)).attributes)["flexInteractionSid"] == interaction.sid


async def test_cold_transfer_and_invite_through_the_twilio_library(center: ContactCenter) -> None:
    client = library(center)
    workspace = client.taskrouter.v1.workspaces(center.workspace_sid)
    conversation_sid = await center.conversation_with_customer()
    interaction = await inbound_interaction(client, center, conversation_sid)
    first_task = interaction.routing["properties"]["sid"]
    await available_and_accepting(client, center, first_task, center.alice)
    await center.wait_identities(conversation_sid, {"alice"})
    channel_api = client.flex_api.v1.interaction(interaction.sid).channels(interaction.channel["sid"])
    alice = next(p for p in await call(channel_api.participants.list) if p.type == "agent")

    # Cold transfer to Bob: his task, and when he accepts, Alice is out and her task completed.
    transfer = await call(channel_api.transfers.create,
                          body=JsonBody({"from": alice.sid, "to": center.bob.sid, "type": "cold"}))
    assert transfer.sid.startswith("UX") and (transfer.type, transfer.status) == ("cold", "active")
    (second,) = [t for t in await call(workspace.tasks.list) if t.sid != first_task]
    assert json.loads(second.attributes)["transferTargetSid"] == center.bob.sid
    await available_and_accepting(client, center, second.sid, center.bob)
    await center.wait_identities(conversation_sid, {"bob"})
    assert (await call(workspace.tasks(first_task).fetch)).assignment_status == "completed"
    assert (await call(channel_api.transfers(transfer.sid).fetch)).status == "completed"

    # Bob invites a colleague through the queue: Alice, free again, takes it and both are in the conversation.
    invite = await call(channel_api.invites.create, routing=routing(center, attributes={"reason": "second opinion"}))
    assert invite.sid.startswith("KG") and invite.routing["properties"]["attributes"]["reason"] == "second opinion"
    (third,) = [t for t in await call(workspace.tasks.list) if t.sid not in (first_task, second.sid)]
    assert json.loads(third.attributes)["flexChannelInviteSid"] == invite.sid
    await available_and_accepting(client, center, third.sid, center.alice)
    await center.wait_identities(conversation_sid, {"alice", "bob"})
    assert [i.sid for i in await call(channel_api.invites.list)] == [invite.sid]
    agents = [p for p in await call(channel_api.participants.list) if p.type == "agent"]
    assert sorted(p.routing_properties["task_sid"] for p in agents) == sorted([first_task, second.sid, third.sid])


async def test_agent_initiated_outbound_through_the_twilio_library(center: ContactCenter) -> None:
    client = library(center)
    workspace = client.taskrouter.v1.workspaces(center.workspace_sid)
    created = await call(client.flex_api.v1.interaction.create,
                         channel={"type": "sms", "initiated_by": "agent",
                                  "participants": [{"address": NEW_CUSTOMER, "proxy_address": PARLEY_NUMBER}]},
                         routing=routing(center, queue_sid=center.queue_sid, worker_sid=center.alice.sid))
    task = created.routing["properties"]
    assert (task["assignment_status"], task["routing_target"]) == ("assigned", center.alice.sid)
    conversation_sid = json.loads(task["attributes"])["conversationSid"]
    (reservation,) = await call(workspace.tasks(task["sid"]).reservations.list)
    assert (reservation.reservation_status, reservation.worker_sid) == ("accepted", center.alice.sid)
    await center.wait_identities(conversation_sid, {"alice"})
    conversation = client.conversations.v1.conversations(conversation_sid)
    await call(conversation.messages.create, author="alice", body="Hello from Parley")
    (sent,) = await center.carrier.wait_for(1)
    assert (sent.field("To"), sent.field("Body")) == (NEW_CUSTOMER, "Hello from Parley")


class JsonBody(dict):  # type: ignore[type-arg]
    """The library's Configuration update sends `body.to_dict()` as JSON."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self)


async def test_flow_journey_through_the_twilio_library(center: ContactCenter) -> None:
    """The flow journey of test_flows, with every Twilio resource driven by the library (flows themselves are
    Parley's own `/parley/v1/Flows`, so that one call is plain HTTP)."""
    client = library(center)
    billing_sid, workflow_sid = await billing_routing(center)
    flow = await center.post("/parley/v1/Flows", {"FriendlyName": "Inbound SMS",
                                                  "Definition": json.dumps(greeting_flow(workflow_sid))}, status=201)
    await call(client.conversations.v1.address_configurations.create, type="sms", address=PARLEY_NUMBER,
               auto_creation_enabled=True, auto_creation_type="studio", auto_creation_studio_flow_sid=flow["sid"])
    workspace = client.taskrouter.v1.workspaces(center.workspace_sid)
    for agent in (center.alice, center.bob):
        await call(workspace.workers(agent.sid).update, activity_sid=center.available_sid)

    await center.customer_writes("A question about my invoice")
    (greeting,) = await center.carrier.wait_for(1)
    assert greeting.field("Body") == f"Hello {CUSTOMER}!"
    (task,) = await eventually(lambda: call(workspace.tasks.list), what="the flow's task")
    assert task.task_queue_sid == billing_sid
    attributes = json.loads(task.attributes)
    conversation_sid = attributes["conversationSid"]
    (reservation,) = await eventually(lambda: call(workspace.tasks(task.sid).reservations.list,
                                                   reservation_status="pending"), what="the reservation")
    assert reservation.worker_sid == center.bob.sid
    await call(workspace.tasks(task.sid).reservations(reservation.sid).update, reservation_status="accepted")
    conversation = client.conversations.v1.conversations(conversation_sid)

    async def identities() -> set[str]:
        return {p.identity for p in await call(conversation.participants.list) if p.identity}

    await eventually(identities, until=lambda found: found == {"bob"}, what="Bob in the conversation")

    await call(conversation.messages.create, author="bob", body="Bob here")
    assert (await center.carrier.wait_for(2))[1].field("Body") == "Bob here"
    await center.customer_writes("Thank you!")
    last = await eventually(lambda: call(conversation.messages.list), until=lambda found: len(found) == 4,
                            what="the customer's reply")
    assert (last[-1].author, last[-1].body) == (CUSTOMER, "Thank you!")

    channel_api = client.flex_api.v1.interaction(attributes["flexInteractionSid"]).channels(
        attributes["flexInteractionChannelSid"])
    agent = next(p for p in await call(channel_api.participants.list) if p.type == "agent")
    await call(channel_api.participants(agent.sid).update, status="wrapup")
    assert (await call(workspace.tasks(task.sid).fetch)).assignment_status == "wrapping"
    assert (await call(channel_api.update, status="closed", routing={"status": "closed"})).status == "closed"
    assert (await call(workspace.tasks(task.sid).fetch)).assignment_status == "completed"
    await eventually(lambda: call(conversation.fetch), until=lambda c: c.state == "closed",
                     what="the conversation closed")
    chat = next(c for c in await call(workspace.workers(center.bob.sid).worker_channels.list)
                if c.task_channel_unique_name == "chat")
    assert chat.assigned_tasks == 0


async def test_flex_flows_web_channels_and_configuration_through_the_twilio_library(center: ContactCenter) -> None:
    client = library(center)
    flex = client.flex_api.v1
    created = await call(flex.flex_flow.create, friendly_name="Web", chat_service_sid=SERVICE, channel_type="web",
                         integration_type="task", integration_workspace_sid=center.workspace_sid,
                         integration_workflow_sid=center.workflow_sid, integration_channel="chat",
                         integration_priority=3)
    assert created.sid.startswith("FO") and created.integration["priority"] == 3
    assert (await call(flex.flex_flow(created.sid).fetch)).friendly_name == "Web"
    updated = await call(flex.flex_flow(created.sid).update, friendly_name="Web chat", janitor_enabled=True)
    assert updated.friendly_name == "Web chat" and updated.janitor_enabled is True
    sms = await call(flex.flex_flow.create, friendly_name="SMS", chat_service_sid=SERVICE, channel_type="sms",
                     contact_identity="+15550003333", integration_type="task",
                     integration_workspace_sid=center.workspace_sid, integration_workflow_sid=center.workflow_sid)
    assert [f.sid for f in await call(flex.flex_flow.list, page_size=1)] == [created.sid, sms.sid]
    assert [f.sid for f in await call(flex.flex_flow.list, friendly_name="SMS")] == [sms.sid]
    assert await call(flex.flex_flow(sms.sid).delete) is True

    chat = await call(flex.web_channel.create, flex_flow_sid=created.sid, identity="guest-9",
                      customer_friendly_name="Sam", chat_friendly_name="Chat with Sam")
    assert chat.sid.startswith("CH") and chat.flex_flow_sid == created.sid
    assert (await call(flex.web_channel(chat.sid).fetch)).sid == chat.sid
    assert [c.sid for c in await call(flex.web_channel.list)] == [chat.sid]
    (task,) = await call(client.taskrouter.v1.workspaces(center.workspace_sid).tasks.list)
    assert json.loads(task.attributes)["conversationSid"] == chat.sid and task.priority == 3
    await call(flex.web_channel(chat.sid).update, chat_status="inactive")
    assert (await call(client.taskrouter.v1.workspaces(center.workspace_sid).tasks(task.sid).fetch)) \
        .assignment_status == "canceled"
    assert await call(flex.web_channel(chat.sid).delete) is True
    assert await call(flex.web_channel.list) == []

    configuration = await call(flex.configuration().fetch)
    assert configuration.taskrouter_workspace_sid == center.workspace_sid
    changed = await call(flex.configuration().update, body=JsonBody(ui_attributes={"theme": "dark"}))
    assert changed.ui_attributes == {"theme": "dark"}
    assert (await call(flex.configuration().fetch)).ui_attributes == {"theme": "dark"}
