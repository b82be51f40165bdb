"""Roles through the official `twilio` library: conversation and service roles store Twilio's permission names
and refuse any other; create, fetch, list with paging, update (replaces permissions), delete; both path forms;
isolation between accounts."""

import pytest
from twilio.base.exceptions import TwilioRestException

from services.conversations.domain.identity import CONVERSATION_PERMISSIONS, SERVICE_ONLY_PERMISSIONS
from tests.conversations.identity_support import V1, conversations_alone
from tests.support.parley import RunningParley
from tests.support.twilio_client import call, create_account, twilio_client


@pytest.fixture
async def parley(launch, settings, tmp_path) -> RunningParley:
    return await conversations_alone(launch, settings, tmp_path)


async def test_role_lifecycle_through_the_twilio_library(parley: RunningParley) -> None:
    roles = twilio_client(parley).conversations.v1.roles
    agent = await call(roles.create, friendly_name="agent", type="conversation",
                       permission=["sendMessage", "sendMediaMessage", "editOwnMessage"])
    assert agent.sid.startswith("RL") and agent.type == "conversation" and agent.chat_service_sid.startswith("IS")
    assert agent.permissions == ["sendMessage", "sendMediaMessage", "editOwnMessage"]
    assert agent.url.endswith(f"/v1/Roles/{agent.sid}")
    assert (await call(roles(agent.sid).fetch)).friendly_name == "agent"
    updated = await call(roles(agent.sid).update, permission=["sendMessage"])
    assert updated.permissions == ["sendMessage"]  # an update replaces every permission
    listed = await call(roles.list, page_size=2)
    assert len(listed) == 5 and agent.sid in {role.sid for role in listed}  # with the four default roles
    first_page = await call(roles.page, page_size=2)
    assert len(list(first_page)) == 2 and await call(first_page.next_page) is not None
    assert await call(roles(agent.sid).delete) is True
    with pytest.raises(TwilioRestException) as missing:
        await call(roles(agent.sid).fetch)
    assert missing.value.status == 404


async def test_every_twilio_permission_name_is_stored_for_its_role_type(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    service = await call(client.services.create, friendly_name="Brand")
    roles = client.services(service.sid).roles
    conversation_role = await call(roles.create, friendly_name="all conversation", type="conversation",
                                   permission=sorted(CONVERSATION_PERMISSIONS))
    assert conversation_role.permissions == sorted(CONVERSATION_PERMISSIONS)
    everything = sorted(CONVERSATION_PERMISSIONS | SERVICE_ONLY_PERMISSIONS)
    service_role = await call(roles.create, friendly_name="all service", type="service", permission=everything)
    assert service_role.permissions == everything and service_role.chat_service_sid == service.sid
    assert service_role.url.endswith(f"/v1/Services/{service.sid}/Roles/{service_role.sid}")
    assert (await call(roles(service_role.sid).fetch)).permissions == everything


async def test_unknown_or_misplaced_permissions_are_refused(parley: RunningParley) -> None:
    async with parley.client() as http:
        for data in (
            {"FriendlyName": "x", "Type": "conversation", "Permission": "launchRockets"},
            {"FriendlyName": "x", "Type": "conversation", "Permission": "createConversation"},  # a service permission
            {"FriendlyName": "x", "Type": "conversation", "Permission": "sendmessage"},  # names are case-sensitive
            {"FriendlyName": "x", "Type": "deployment", "Permission": "sendMessage"},
            {"FriendlyName": "x", "Type": "service"},
            {"Type": "service", "Permission": "joinConversation"},
            {"FriendlyName": "x" * 65, "Type": "service", "Permission": "joinConversation"},
        ):
            refused = await http.post(f"{V1}/Roles", data=data)
            assert refused.status_code == 400 and refused.json()["code"] == 20001, (data, refused.text)
        role = (await http.post(f"{V1}/Roles", data={"FriendlyName": "ok", "Type": "conversation",
                                                     "Permission": ["sendMessage", "sendMessage"]})).json()
        assert role["permissions"] == ["sendMessage"]
        refused_update = await http.post(f"{V1}/Roles/{role['sid']}", data={"Permission": "joinConversation"})
        assert refused_update.status_code == 400
        assert (await http.post(f"{V1}/Roles/{role['sid']}", data={})).status_code == 400
        assert (await http.get(f"{V1}/Roles/{role['sid']}")).json()["permissions"] == ["sendMessage"]
        names = [r["friendly_name"] for r in (await http.get(f"{V1}/Roles")).json()["roles"]]
    assert names.count("x") == 0 and names.count("ok") == 1


async def test_a_deleted_role_leaves_its_users_without_one(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    role = await call(client.roles.create, friendly_name="temp", type="service", permission=["joinConversation"])
    user = await call(client.users.create, identity="frank", role_sid=role.sid)
    assert user.role_sid == role.sid
    await call(client.roles(role.sid).delete)
    assert (await call(client.users(user.sid).fetch)).role_sid is None


async def test_another_account_sees_none_of_the_roles(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    service = await call(client.services.create, friendly_name="Brand")
    mine = await call(client.roles.create, friendly_name="mine", type="service", permission=["joinConversation"])
    named = await call(client.services(service.sid).roles.create, friendly_name="named", type="service",
                       permission=["joinConversation"])
    other = twilio_client(parley, await create_account(parley)).conversations.v1
    for probe in (other.roles(mine.sid).fetch, other.roles(mine.sid).delete,
                  lambda: other.roles(mine.sid).update(permission=["joinConversation"]),
                  other.services(service.sid).roles(named.sid).fetch):
        with pytest.raises(TwilioRestException) as refused:
            await call(probe)
        assert refused.value.status == 404
    assert mine.sid not in {role.sid for role in await call(other.roles.list)}
