"""The same journey through the official `twilio` library, with flex_api, taskrouter and conversations at Parley."""

import json

from twilio.rest import Client

from tests.flex.conftest import ContactCenter
from tests.support.twilio_client import call
from tests.support.waiting import eventually


def library(center: ContactCenter) -> Client:
    client = Client(center.parley.account.sid, center.parley.account.auth_token)
    client.flex_api.base_url = f"{center.parley.base_url}/flex-api"
    client.taskrouter.base_url = f"{center.parley.base_url}/taskrouter"
    client.conversations.base_url = f"{center.parley.base_url}/conversations"
    return client


async def test_interaction_journey_through_the_twilio_library(center: ContactCenter) -> None:
    client = library(center)
    conversation_sid = await center.conversation_with_customer()
    interaction = await call(client.flex_api.v1.interaction.create,
                             channel={"type": "sms", "initiated_by": "customer",
                                      "properties": {"media_channel_sid": conversation_sid}},
                             routing={"properties": {"workspace_sid": center.workspace_sid,
                                                     "workflow_sid": center.workflow_sid,
                                                     "task_channel_unique_name": "chat"}})
    assert interaction.sid.startswith("KD")
    channel_sid = interaction.channel["sid"]
    task_sid = interaction.routing["properties"]["sid"]
    fetched = await call(client.flex_api.v1.interaction(interaction.sid).fetch)
    assert fetched.channel["sid"] == channel_sid
    (channel,) = await call(client.flex_api.v1.interaction(interaction.sid).channels.list)
    assert channel.sid == channel_sid and channel.status == "active" and channel.type == "sms"

    workspace = client.taskrouter.v1.workspaces(center.workspace_sid)
    await call(workspace.workers(center.alice.sid).update, activity_sid=center.available_sid)
    reservation = (await center.pending_reservation(task_sid))["sid"]
    accepted = await call(workspace.tasks(task_sid).reservations(reservation).update, reservation_status="accepted")
    assert accepted.reservation_status == "accepted"
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
