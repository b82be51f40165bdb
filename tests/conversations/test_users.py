"""Users through the official `twilio` library, on the default service and a named one: create (with the service's
default role), fetch by SID or identity, list with paging, update, delete; their conversations; onUserAdded and
onUserUpdated; isolation between accounts."""

import pytest
from twilio.base.exceptions import TwilioRestException

from shared.broker.topology import COMMANDS
from shared.contracts.conversations import USER_ADDED
from shared.contracts.webhooks import DELIVER_WEBHOOK
from tests.conversations.identity_support import V1, conversations_alone
from tests.support.event_tap import EventTap
from tests.support.parley import RunningParley
from tests.support.receiver import Receiver
from tests.support.twilio_client import call, create_account, twilio_client


@pytest.fixture
async def parley(launch, settings, tmp_path) -> RunningParley:
    return await conversations_alone(launch, settings, tmp_path)

async def test_user_lifecycle_on_the_default_service(parley: RunningParley) -> None:
    users = twilio_client(parley).conversations.v1.users
    created = [await call(users.create, identity=f"agent-{n}", friendly_name=f"Agent {n}") for n in range(3)]
    alice = created[0]
    assert alice.sid.startswith("US") and alice.chat_service_sid.startswith("IS")
    assert alice.attributes == "{}" and alice.role_sid.startswith("RL")
    assert alice.links["user_conversations"].endswith(f"/v1/Users/{alice.sid}/Conversations")
    assert (await call(users(alice.sid).fetch)).identity == "agent-0"
    assert (await call(users("agent-0").fetch)).sid == alice.sid
    assert [user.sid for user in await call(users.list, page_size=2)] == [user.sid for user in created]
    first_page = await call(users.page, page_size=2)
    assert [user.sid for user in await call(first_page.next_page)] == [created[2].sid]
    updated = await call(users(alice.sid).update, friendly_name="Alice", attributes='{"team": "billing"}')
    assert updated.friendly_name == "Alice" and updated.attributes == '{"team": "billing"}'
    assert await call(users("agent-0").delete) is True
    with pytest.raises(TwilioRestException) as missing:
        await call(users(alice.sid).fetch)
    assert missing.value.status == 404


async def test_users_of_a_named_service_get_its_default_role(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    service = await call(client.services.create, friendly_name="Brand")
    configuration = await call(client.services(service.sid).configuration().fetch)
    user = await call(client.services(service.sid).users.create, identity="bob")
    assert user.chat_service_sid == service.sid and user.role_sid == configuration.default_chat_service_role_sid
    assert user.url.endswith(f"/v1/Services/{service.sid}/Users/{user.sid}")
    admin = next(role for role in await call(client.services(service.sid).roles.list) if role.friendly_name == "service admin")
    promoted = await call(client.services(service.sid).users("bob").update, role_sid=admin.sid)
    assert promoted.role_sid == admin.sid
    assert await call(client.users.list) == []  # the default service holds no users


async def test_bad_user_input_is_refused_with_twilio_codes(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    conversation_role = next(role for role in await call(client.roles.list) if role.type == "conversation")
    async with parley.client() as http:
        assert (await http.post(f"{V1}/Users", data={"Identity": "dup"})).status_code == 201
        duplicate = await http.post(f"{V1}/Users", data={"Identity": "dup"})
        assert duplicate.status_code == 409 and duplicate.json()["code"] == 50201
        missing = await http.post(f"{V1}/Users", data={"FriendlyName": "nobody"})
        assert missing.status_code == 400 and missing.json()["code"] == 20001
        broken = await http.post(f"{V1}/Users", data={"Identity": "x", "Attributes": "{nope"})
        assert broken.status_code == 400 and broken.json()["code"] == 20001
        wrong_role = await http.post(f"{V1}/Users", data={"Identity": "y", "RoleSid": conversation_role.sid})
        assert wrong_role.status_code == 400
        ignored = await http.post(f"{V1}/Users", data={"Identity": "z", "Colour": "blue"})
        assert ignored.status_code == 201
        listed = (await http.get(f"{V1}/Users")).json()["users"]
    assert sorted(user["identity"] for user in listed) == ["dup", "z"]


async def test_user_conversations_follow_the_users_participation(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    user = await call(client.users.create, identity="carol")
    conversations = [await call(client.conversations.create, friendly_name=f"Chat {n}") for n in range(3)]
    for conversation in conversations:
        await call(client.conversations(conversation.sid).participants.create, identity="carol")
    await call(client.conversations(conversations[0].sid).messages.create, author="system", body="hello")
    await call(client.conversations(conversations[0].sid).messages.create, author="system", body="again")
    mine = client.users(user.sid).user_conversations
    listed = await call(mine.list, page_size=2)
    assert sorted(item.conversation_sid for item in listed) == sorted(c.sid for c in conversations)
    first = await call(mine(conversations[0].sid).fetch)
    assert first.user_sid == user.sid and first.participant_sid.startswith("MB")
    assert first.conversation_state == "active" and first.notification_level == "default"
    assert first.unread_messages_count is None and first.friendly_name == "Chat 0"
    read = await call(mine(conversations[0].sid).update, notification_level="muted", last_read_message_index=0)
    assert read.notification_level == "muted" and read.last_read_message_index == 0 and read.unread_messages_count == 1
    assert await call(mine(conversations[1].sid).delete) is True
    remaining = await call(mine.list)
    assert sorted(item.conversation_sid for item in remaining) == sorted([conversations[0].sid, conversations[2].sid])
    participants = await call(client.conversations(conversations[1].sid).participants.list)
    assert participants == []


async def test_user_events_reach_the_service_webhook_only_when_asked(parley: RunningParley, receiver: Receiver) -> None:
    deliveries = EventTap(parley.settings, exchange=COMMANDS, binding=DELIVER_WEBHOOK)
    events = EventTap(parley.settings)
    await deliveries.start()
    await events.start()
    try:
        async with parley.client() as http:
            default = (await http.get(f"{V1}/Configuration")).json()["default_chat_service_sid"]
            configured = await http.post(f"{V1}/Services/{default}/Configuration/Webhooks", data={
                "PostWebhookUrl": f"{receiver.url}/hooks", "Filters": ["onUserAdded", "onUserUpdated"], "Method": "POST"})
            assert configured.status_code == 200, configured.text
            assert (await http.post(f"{V1}/Users", data={"Identity": "quiet"})).status_code == 201
            loud = await http.post(f"{V1}/Users", data={"Identity": "loud"}, headers={"X-Twilio-Webhook-Enabled": "true"})
            user_sid = loud.json()["sid"]
            await http.post(f"{V1}/Users/{user_sid}", data={"FriendlyName": "Louder"},
                            headers={"X-Twilio-Webhook-Enabled": "true"})
        announced = await events.wait_for(USER_ADDED, 2)
        assert {event["payload"]["resource"]["identity"] for event in announced} == {"quiet", "loud"}
        sent = await deliveries.wait_for(DELIVER_WEBHOOK, 2)
    finally:
        await deliveries.stop()
        await events.stop()
    params = [dict(delivery["payload"]["params"]) for delivery in sent]
    assert [p["EventType"] for p in params] == ["onUserAdded", "onUserUpdated"]
    assert all(p["UserSid"] == user_sid and p["Identity"] == "loud" and p["ChatServiceSid"] == default for p in params)
    assert params[1]["FriendlyName"] == "Louder"
    assert all(delivery["payload"]["target"] == "service" for delivery in sent)
    assert len(deliveries.of_type(DELIVER_WEBHOOK)) == 2  # the quiet REST create fired none


async def test_another_account_sees_none_of_the_users(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    service = await call(client.services.create, friendly_name="Brand")
    mine = await call(client.users.create, identity="dana")
    conversation = await call(client.conversations.create)
    await call(client.conversations(conversation.sid).participants.create, identity="dana")
    named = await call(client.services(service.sid).users.create, identity="erin")
    other = twilio_client(parley, await create_account(parley)).conversations.v1
    for probe in (other.users(mine.sid).fetch, other.users("dana").fetch, other.users(mine.sid).delete,
                  other.users(mine.sid).user_conversations(conversation.sid).fetch,
                  other.services(service.sid).users(named.sid).fetch):
        with pytest.raises(TwilioRestException) as refused:
            await call(probe)
        assert refused.value.status == 404
    assert await call(other.users.list) == []
    async with parley.client(await create_account(parley)) as http:  # type: ignore[arg-type]
        for path in (f"{V1}/Users/{mine.sid}/Conversations", f"{V1}/Services/{service.sid}/Users"):
            assert (await http.get(path)).status_code == 404
