"""Conversation Services through the official `twilio` library: create (with Twilio's default roles), fetch, list
with paging, delete; their Configuration and Configuration/Notifications; isolation between accounts."""

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.conversations.identity_support import V1, conversations_alone
from tests.support.parley import RunningParley
from tests.support.twilio_client import call, create_account, twilio_client


@pytest.fixture
async def parley(launch, settings, tmp_path) -> RunningParley:
    return await conversations_alone(launch, settings, tmp_path)

async def test_service_lifecycle_through_the_twilio_library(parley: RunningParley) -> None:
    services = twilio_client(parley).conversations.v1.services
    created = [await call(services.create, friendly_name=f"Brand {n}") for n in range(3)]
    first = created[0]
    assert first.sid.startswith("IS") and first.account_sid == parley.account.sid
    assert first.friendly_name == "Brand 0" and first.date_created is not None
    assert first.links["users"].endswith(f"/v1/Services/{first.sid}/Users")
    assert (await call(services(first.sid).fetch)).friendly_name == "Brand 0"
    listed = await call(services.list, page_size=2)
    assert [service.sid for service in listed] == [service.sid for service in created]
    first_page = await call(services.page, page_size=2)
    second_page = await call(first_page.next_page)
    assert len(list(first_page)) == 2 and [service.sid for service in second_page] == [created[2].sid]
    assert await call(services(first.sid).delete) is True
    with pytest.raises(TwilioRestException) as missing:
        await call(services(first.sid).fetch)
    assert missing.value.status == 404 and missing.value.code == 20404


async def test_a_new_service_gets_twilio_default_roles_as_its_configuration(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    service = await call(client.services.create, friendly_name="Brand")
    roles = {role.friendly_name: role for role in await call(client.services(service.sid).roles.list)}
    assert set(roles) == {"channel admin", "channel user", "service admin", "service user"}
    assert roles["channel user"].type == "conversation" and "sendMessage" in roles["channel user"].permissions
    assert roles["service admin"].type == "service" and "editAnyUserInfo" in roles["service admin"].permissions
    configuration = await call(client.services(service.sid).configuration().fetch)
    assert configuration.chat_service_sid == service.sid
    assert configuration.default_conversation_creator_role_sid == roles["channel admin"].sid
    assert configuration.default_conversation_role_sid == roles["channel user"].sid
    assert configuration.default_chat_service_role_sid == roles["service user"].sid
    assert configuration.reachability_enabled is False


async def test_the_default_service_has_default_roles_too(parley: RunningParley) -> None:
    roles = await call(twilio_client(parley).conversations.v1.roles.list)
    assert {role.friendly_name for role in roles} == {"channel admin", "channel user", "service admin", "service user"}
    again = await call(twilio_client(parley).conversations.v1.roles.list)
    assert len(again) == 4


async def test_service_configuration_update_checks_role_types(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    service = await call(client.services.create, friendly_name="Brand")
    agent = await call(client.services(service.sid).roles.create, friendly_name="agent", type="conversation",
                       permission=["sendMessage", "leaveConversation"])
    supervisor = await call(client.services(service.sid).roles.create, friendly_name="supervisor", type="service",
                            permission=["joinConversation"])
    updated = await call(client.services(service.sid).configuration().update, default_conversation_role_sid=agent.sid,
                         default_chat_service_role_sid=supervisor.sid, reachability_enabled=True)
    assert updated.default_conversation_role_sid == agent.sid
    assert updated.default_chat_service_role_sid == supervisor.sid and updated.reachability_enabled is True
    async with parley.client() as http:
        wrong_type = await http.post(f"{V1}/Services/{service.sid}/Configuration",
                                     data={"DefaultChatServiceRoleSid": agent.sid})
        assert wrong_type.status_code == 400 and wrong_type.json()["code"] == 20001
        unknown = await http.post(f"{V1}/Services/{service.sid}/Configuration",
                                  data={"DefaultConversationRoleSid": "RL" + "0" * 32})
        assert unknown.status_code == 400
        not_bool = await http.post(f"{V1}/Services/{service.sid}/Configuration", data={"ReachabilityEnabled": "maybe"})
        assert not_bool.status_code == 400
    still = await call(client.services(service.sid).configuration().fetch)
    assert still.default_chat_service_role_sid == supervisor.sid and still.reachability_enabled is True


async def test_service_notifications_are_stored_and_rendered(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    service = await call(client.services.create, friendly_name="Brand")
    notifications = client.services(service.sid).configuration.notifications()
    initial = await call(notifications.fetch)
    assert initial.log_enabled is False and initial.new_message["enabled"] is False
    updated = await call(notifications.update, log_enabled=True, new_message_enabled=True,
                         new_message_template="${PARTICIPANT}: ${MESSAGE}", new_message_sound="ding",
                         new_message_badge_count_enabled=True, new_message_with_media_enabled=True,
                         new_message_with_media_template="media from ${PARTICIPANT}", added_to_conversation_enabled=True,
                         removed_from_conversation_template="bye")
    assert updated.log_enabled is True
    assert updated.new_message == {"enabled": True, "template": "${PARTICIPANT}: ${MESSAGE}", "sound": "ding",
                                   "badge_count_enabled": True,
                                   "with_media": {"enabled": True, "template": "media from ${PARTICIPANT}"}}
    assert updated.added_to_conversation["enabled"] is True
    assert updated.removed_from_conversation == {"enabled": False, "template": "bye", "sound": None}
    assert (await call(notifications.fetch)).new_message["sound"] == "ding"


async def test_creating_a_service_needs_a_friendly_name(parley: RunningParley) -> None:
    async with parley.client() as http:
        missing = await http.post(f"{V1}/Services", data={"Unknown": "ignored"})
        assert missing.status_code == 400 and missing.json()["code"] == 20001
        assert (await http.get(f"{V1}/Services")).json()["services"] == []


async def test_deleting_a_service_removes_what_it_holds(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    service = await call(client.services.create, friendly_name="Brand")
    conversation = await call(client.services(service.sid).conversations.create, friendly_name="Chat")
    await call(client.services(service.sid).users.create, identity="alice")
    await call(client.services(service.sid).delete)
    async with parley.client() as http:
        assert (await http.get(f"{V1}/Services/{service.sid}/Conversations/{conversation.sid}")).status_code == 404
        assert (await http.get(f"{V1}/Services/{service.sid}/Users/alice")).status_code == 404
        assert (await http.get(f"{V1}/Services/{service.sid}/Roles")).status_code == 404


async def test_another_account_sees_none_of_the_services(parley: RunningParley) -> None:
    mine = await call(twilio_client(parley).conversations.v1.services.create, friendly_name="Mine")
    other = twilio_client(parley, await create_account(parley)).conversations.v1
    for probe in (other.services(mine.sid).fetch, other.services(mine.sid).delete,
                  other.services(mine.sid).configuration().fetch, other.services(mine.sid).configuration.notifications().fetch):
        with pytest.raises(TwilioRestException) as refused:
            await call(probe)
        assert refused.value.status == 404
    assert await call(other.services.list) == []
    assert (await call(twilio_client(parley).conversations.v1.services(mine.sid).fetch)).sid == mine.sid
