"""Web-chat guests: `POST /flex-api/v2/WebChats` starts a conversation on a chat address; guests get tokens."""

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from twilio.jwt.access_token import AccessToken
from websockets.asyncio.client import ClientConnection, connect

from services.conversations import webchat
from services.conversations.app import SERVICE as CONVERSATIONS
from services.ingress.app import SERVICE as INGRESS
from shared.runtime import ServiceContext, ServiceDefinition, ServiceParts
from tests.conftest import StartParley
from tests.support.parley import RunningParley
from tests.support.waiting import eventually


def _conversations_with_webchat(context: ServiceContext) -> ServiceParts:
    """The conversations service as the lead will compose it: with the web-chat consumer registered."""
    parts = CONVERSATIONS.build(context)
    parts.consumers.extend(webchat.consumers(context.settings))
    return parts


CONVERSATIONS_WITH_WEBCHAT = ServiceDefinition(name=CONVERSATIONS.name, migrations=CONVERSATIONS.migrations,
                                               build=_conversations_with_webchat)


@pytest.fixture
async def parley(launch: StartParley) -> RunningParley:
    return await launch([CONVERSATIONS_WITH_WEBCHAT, INGRESS])


async def chat_address(client: httpx.AsyncClient, address: str = "webchat-main", type_: str = "chat") -> dict[str, Any]:
    response = await client.post("/conversations/v1/Configuration/Addresses", data={
        "Type": type_, "Address": address, "FriendlyName": "Website chat", "AutoCreation.Enabled": "true",
        "AutoCreation.Type": "default",
    })
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_guest_chat_is_a_conversation_on_the_chat_address_with_the_guest_in_it(parley: RunningParley) -> None:
    async with parley.client() as client:
        address = await chat_address(client)
        response = await client.post("/flex-api/v2/WebChats", data={
            "AddressSid": address["sid"], "ChatFriendlyName": "Chat with Ada", "CustomerFriendlyName": "Ada",
            "PreEngagementData": json.dumps({"email": "ada@example.com", "question": "Where is my order?"}),
            "Identity": "guest-ada",
        })
        assert response.status_code == 201, response.text
        started = response.json()
        assert set(started) == {"conversation_sid", "identity", "token"}  # Parley adds the guest's token
        assert started["identity"] == "guest-ada"
        assert started["conversation_sid"].startswith("CH")

        conversation = (await client.get(f"/conversations/v1/Conversations/{started['conversation_sid']}")).json()
        assert conversation["friendly_name"] == "Chat with Ada"
        assert json.loads(conversation["attributes"]) == {
            "pre_engagement_data": {"email": "ada@example.com", "question": "Where is my order?"}, "from": "Ada"}
        participants = (await client.get(
            f"/conversations/v1/Conversations/{started['conversation_sid']}/Participants")).json()["participants"]
        assert [(p["identity"], p["messaging_binding"]) for p in participants] == [("guest-ada", None)]

        # No Identity: the guest gets one made up for them.
        anonymous = (await client.post("/flex-api/v2/WebChats", data={"AddressSid": address["sid"]})).json()
        assert anonymous["identity"].startswith("guest-") and anonymous["conversation_sid"] != started["conversation_sid"]


async def test_a_web_chat_needs_a_chat_address_and_valid_pre_engagement_data(parley: RunningParley) -> None:
    async with parley.client() as client:
        sms = await chat_address(client, address="+15550001111", type_="sms")
        wrong_type = await client.post("/flex-api/v2/WebChats", data={"AddressSid": sms["sid"]})
        assert (wrong_type.status_code, wrong_type.json()["code"]) == (400, 20001)
        unknown = await client.post("/flex-api/v2/WebChats", data={"AddressSid": "IG" + "0" * 32})
        assert unknown.status_code == 404
        address = await chat_address(client)
        bad_json = await client.post("/flex-api/v2/WebChats",
                                     data={"AddressSid": address["sid"], "PreEngagementData": "{not json"})
        assert bad_json.status_code == 400
        assert (await client.post("/flex-api/v2/WebChats", data={})).status_code == 400
    async with httpx.AsyncClient(base_url=parley.base_url, auth=(parley.account.sid, "wrong")) as wrong:
        assert (await wrong.post("/flex-api/v2/WebChats", data={"AddressSid": address["sid"]})).status_code == 401


async def test_a_guest_token_is_issued_to_the_business_and_refreshed_by_the_guest(parley: RunningParley) -> None:
    async with parley.client() as client:
        address = await chat_address(client)
        started = await client.post("/flex-api/v2/WebChats", data={"AddressSid": address["sid"], "Identity": "guest-ada"})
        assert started.status_code == 201, started.text  # the guest is in an open chat: its token is renewed
        issued = await client.post("/ingress/webchat/tokens", data={"Identity": "guest-ada", "Ttl": "300"})
        assert issued.status_code == 201, issued.text
        key = (await client.post(f"/api/2010-04-01/Accounts/{parley.account.sid}/Keys.json")).json()
    token = issued.json()["token"]
    async with httpx.AsyncClient(base_url=parley.base_url) as browser:
        refreshed = await browser.post("/ingress/webchat/tokens/refresh", data={"Token": token})
        assert refreshed.status_code == 201, refreshed.text
        assert refreshed.json()["identity"] == "guest-ada"
        assert refreshed.json()["date_expires"] >= issued.json()["date_expires"]

        expired = AccessToken(parley.account.sid, key["sid"], key["secret"], identity="guest-ada",
                              nbf=int(time.time()) - 7200, valid_until=int(time.time()) - 3600).to_jwt()
        forged = AccessToken(parley.account.sid, key["sid"], "x" * 64, identity="guest-ada").to_jwt()
        for bad, code in [(expired, 20104), (forged, 20101), ("garbage", 20101)]:
            response = await browser.post("/ingress/webchat/tokens/refresh", data={"Token": bad})
            assert (response.status_code, response.json()["code"]) == (401, code)


def refused_as_invalid(response: httpx.Response) -> None:
    assert (response.status_code, response.json()["code"]) == (401, 20101), response.text


async def test_only_a_guest_token_is_refreshed_there_never_an_agents_a_supervisors_or_an_api_keys(
    parley: RunningParley,
) -> None:
    async with parley.client() as client:
        address = await chat_address(client)
        started = await client.post("/flex-api/v2/WebChats", data={"AddressSid": address["sid"], "Identity": "guest-ada"})
        assert started.status_code == 201, started.text
        for identity, roles in [("agent-bob", "agent"), ("sup-sam", "supervisor")]:
            created = await client.post("/parley/v1/Agents", data={"Identity": identity, "Roles": roles})
            assert created.status_code == 201, created.text
        agent = (await client.post("/parley/v1/AccessTokens", data={"Identity": "agent-bob"})).json()["token"]
        supervisor = (await client.post("/parley/v1/AccessTokens", data={"Identity": "sup-sam"})).json()["token"]
        not_an_agent = (await client.post("/parley/v1/AccessTokens", data={"Identity": "kiosk-7"})).json()["token"]
        key = (await client.post(f"/api/2010-04-01/Accounts/{parley.account.sid}/Keys.json")).json()
    # Signed with the business's own key for the very guest in the open chat: still not a guest token of Parley's.
    by_api_key = AccessToken(parley.account.sid, key["sid"], key["secret"], identity="guest-ada").to_jwt()
    async with httpx.AsyncClient(base_url=parley.base_url) as browser:
        for token in (agent, supervisor, not_an_agent, by_api_key):
            refused_as_invalid(await browser.post("/ingress/webchat/tokens/refresh", data={"Token": token}))
        guest = await browser.post("/ingress/webchat/tokens/refresh", data={"Token": started.json()["token"]})
        assert (guest.status_code, guest.json()["identity"]) == (201, "guest-ada")


async def test_a_guest_token_is_renewed_only_while_the_guests_chat_is_open(parley: RunningParley) -> None:
    async with parley.client() as client:
        address = await chat_address(client)
        started = (await client.post("/flex-api/v2/WebChats", data={"AddressSid": address["sid"]})).json()
        nobody = (await client.post("/ingress/webchat/tokens", data={"Identity": "guest-in-no-chat"})).json()["token"]
        async with httpx.AsyncClient(base_url=parley.base_url) as browser:
            async def refresh(token: str) -> httpx.Response:
                return await browser.post("/ingress/webchat/tokens/refresh", data={"Token": token})

            renewed = await refresh(started["token"])
            assert renewed.status_code == 201, renewed.text
            refused_as_invalid(await refresh(nobody))

            closed = await client.post(f"/conversations/v1/Conversations/{started['conversation_sid']}",
                                       data={"State": "closed"})
            assert (closed.status_code, closed.json()["state"]) == (200, "closed"), closed.text
            refused_as_invalid(await eventually(lambda: refresh(started["token"]), until=lambda r: r.status_code != 201,
                                                what="the closed chat's guest token to be refused"))
            refused_as_invalid(await refresh(renewed.json()["token"]))


async def test_guest_and_agent_talk_over_websockets_on_a_web_chat(parley: RunningParley) -> None:
    async with parley.client() as client:
        address = await chat_address(client)
        started = (await client.post("/flex-api/v2/WebChats", data={
            "AddressSid": address["sid"], "CustomerFriendlyName": "Ada", "Identity": "guest-ada"})).json()
        conversation = started["conversation_sid"]
        guest_token = (await client.post("/ingress/webchat/tokens", data={"Identity": "guest-ada"})).json()["token"]
        # Routing a chat to an agent arrives with the Interactions issue; here the agent joins through the REST API.
        joined = await client.post(f"/conversations/v1/Conversations/{conversation}/Participants",
                                   data={"Identity": "agent-bob"})
        assert joined.status_code == 201, joined.text
        agent_token = (await client.post("/parley/v1/AccessTokens", data={"Identity": "agent-bob"})).json()["token"]

        ws_base = f"ws://127.0.0.1:{parley.port}/ingress/ws?token="
        async with connect(ws_base + guest_token) as guest, connect(ws_base + agent_token) as agent:
            for ws in (guest, agent):
                hello = await _receive(ws)
                assert hello["type"] == "connected"
            posted = await client.post(f"/conversations/v1/Conversations/{conversation}/Messages",
                                       data={"Author": "agent-bob", "Body": "Hi Ada, Bob here. How can I help?"})
            assert posted.status_code == 201, posted.text
            seen = await _receive_until(guest, "message.added")
            assert (seen["resource"]["body"], seen["resource"]["author"]) == ("Hi Ada, Bob here. How can I help?",
                                                                              "agent-bob")
            await guest.send(json.dumps({"type": "typing", "conversation_sid": conversation}))
            typing = await _receive_until(agent, "typing")
            assert typing == {"type": "typing", "conversation_sid": conversation, "identity": "guest-ada"}


async def _receive(ws: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), 15)))


async def _receive_until(ws: ClientConnection, type_: str) -> dict[str, Any]:
    """The next message of `type_`, past the others (a conversation also announces participants joining)."""
    while (message := await _receive(ws))["type"] != type_:
        pass
    return message
