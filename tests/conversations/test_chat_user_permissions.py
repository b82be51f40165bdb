"""Chat users on the REST API: a web-chat guest's or an agent's access token (X-Twilio-Token or Bearer) acts as
its identity, within its conversations, as its conversation role permits; anything else is refused with Twilio's
error and changes nothing. Real HTTP end to end: ingress (web chats, tokens), conversations, webhooks."""

import time
from typing import Any

import httpx
import pytest
from starlette.responses import Response
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant

from services.conversations.app import SERVICE as CONVERSATIONS
from services.ingress.app import SERVICE as INGRESS
from services.webhooks.app import SERVICE as WEBHOOKS
from tests.conftest import StartParley
from tests.support.parley import RunningParley
from tests.support.receiver import ReceivedRequest, Receiver

V1 = "/conversations/v1"


@pytest.fixture
async def parley(launch: StartParley) -> RunningParley:
    return await launch([CONVERSATIONS, INGRESS, WEBHOOKS])


def as_token(parley: RunningParley, token: str, *, bearer: bool = False) -> httpx.AsyncClient:
    """A client that authenticates with an access token only, as Twilio's SDKs do (or as `Authorization: Bearer`)."""
    headers = {"Authorization": f"Bearer {token}"} if bearer else {"X-Twilio-Token": token}
    return httpx.AsyncClient(base_url=parley.base_url, headers=headers, timeout=30)


async def start_guest_chat(client: httpx.AsyncClient, identity: str) -> tuple[str, str]:
    """A web chat on a chat address, and the guest's token: (conversation SID, token)."""
    found = (await client.get(f"{V1}/Configuration/Addresses")).json()["address_configurations"]
    address = found[0] if found else (await client.post(f"{V1}/Configuration/Addresses", data={
        "Type": "chat", "Address": "webchat-site", "AutoCreation.Enabled": "true", "AutoCreation.Type": "default",
    })).json()
    started = await client.post("/flex-api/v2/WebChats", data={"AddressSid": address["sid"], "Identity": identity})
    assert started.status_code == 201, started.text
    token = await client.post("/ingress/webchat/tokens", data={"Identity": identity})
    assert token.status_code == 201, token.text
    return started.json()["conversation_sid"], token.json()["token"]


async def agent_token(client: httpx.AsyncClient, identity: str) -> str:
    response = await client.post("/parley/v1/AccessTokens", data={"Identity": identity})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


async def participants(client: httpx.AsyncClient, conversation_sid: str) -> list[str]:
    listed = (await client.get(f"{V1}/Conversations/{conversation_sid}/Participants")).json()["participants"]
    return sorted(p["identity"] for p in listed)


async def role_sid(client: httpx.AsyncClient, name: str) -> str:
    roles = (await client.get(f"{V1}/Roles")).json()["roles"]
    return next(role["sid"] for role in roles if role["friendly_name"] == name)


def refused_as_chat_action(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["code"] == 50107 and body["status"] == 403 and body["more_info"].endswith("/50107")


async def test_a_guest_posts_as_itself_may_not_remove_anyone_and_sees_only_its_own_chat(
        parley: RunningParley, receiver: Receiver) -> None:
    async with parley.client() as account:
        response = await account.post(f"{V1}/Configuration/Webhooks", data={
            "PreWebhookUrl": f"{receiver.url}/pre", "PostWebhookUrl": f"{receiver.url}/post",
            "Filters": ["onMessageAdd", "onMessageAdded"], "Method": "POST", "Target": "webhook"})
        assert response.status_code == 200, response.text
        chat, guest_token = await start_guest_chat(account, "guest-ada")
        added = await account.post(f"{V1}/Conversations/{chat}/Participants", data={"Identity": "agent-alice"})
        assert added.status_code == 201, added.text
        elsewhere = (await account.post(f"{V1}/Conversations", data={"FriendlyName": "not Ada's"})).json()["sid"]
        alice_token = await agent_token(account, "agent-alice")

        async with as_token(parley, guest_token) as guest:
            posted = await guest.post(f"{V1}/Conversations/{chat}/Messages",
                                      data={"Body": "Where is my order?", "Author": "someone-else"})
            assert posted.status_code == 201, posted.text
            assert posted.json()["author"] == "guest-ada"  # a chat user writes as itself

            removing = await guest.delete(f"{V1}/Conversations/{chat}/Participants/agent-alice")
            refused_as_chat_action(removing)
            assert await participants(account, chat) == ["agent-alice", "guest-ada"]

            other = await guest.get(f"{V1}/Conversations/{elsewhere}")
            assert (other.status_code, other.json()["code"]) == (404, 20404)
            other_messages = await guest.get(f"{V1}/Conversations/{elsewhere}/Messages")
            assert other_messages.status_code == 404
            listed = (await guest.get(f"{V1}/Conversations")).json()["conversations"]
            assert [c["sid"] for c in listed] == [chat]

        # As an SDK action, the message asked onMessageAdd first and then announced onMessageAdded.
        pre = await receiver.wait_for(1, where=lambda r: r.field("EventType") == "onMessageAdd")
        post = await receiver.wait_for(1, where=lambda r: r.field("EventType") == "onMessageAdded")
        for hook in (pre[0], post[0]):
            assert (hook.field("Source"), hook.field("ClientIdentity"), hook.field("Author")) == (
                "SDK", "guest-ada", "guest-ada")

        # The agent sees the guest's message with its own (Bearer) token, and as channel admin may remove.
        async with as_token(parley, alice_token, bearer=True) as alice:
            seen = (await alice.get(f"{V1}/Conversations/{chat}/Messages")).json()["messages"]
            assert [(m["author"], m["body"]) for m in seen] == [("guest-ada", "Where is my order?")]
            refused_as_chat_action(await alice.delete(f"{V1}/Conversations/{chat}/Participants/guest-ada"))
            promoted = await account.post(f"{V1}/Conversations/{chat}/Participants/agent-alice",
                                          data={"RoleSid": await role_sid(account, "channel admin")})
            assert promoted.status_code == 200, promoted.text
            removed = await alice.delete(f"{V1}/Conversations/{chat}/Participants/guest-ada")
            assert removed.status_code == 204, removed.text
        assert await participants(account, chat) == ["agent-alice"]


async def test_a_guest_edits_and_deletes_its_own_messages_only_and_may_leave(parley: RunningParley) -> None:
    async with parley.client() as account:
        chat, guest_token = await start_guest_chat(account, "guest-bo")
        await account.post(f"{V1}/Conversations/{chat}/Participants", data={"Identity": "agent-cy"})
        agents = (await account.post(f"{V1}/Conversations/{chat}/Messages",
                                     data={"Author": "agent-cy", "Body": "Hello Bo"})).json()
        async with as_token(parley, guest_token) as guest:
            own = (await guest.post(f"{V1}/Conversations/{chat}/Messages", data={"Body": "hi"})).json()
            edited = await guest.post(f"{V1}/Conversations/{chat}/Messages/{own['sid']}", data={"Body": "hi!"})
            assert (edited.status_code, edited.json()["body"]) == (200, "hi!")
            refused_as_chat_action(await guest.post(f"{V1}/Conversations/{chat}/Messages/{agents['sid']}",
                                                    data={"Body": "rewritten"}))
            refused_as_chat_action(await guest.delete(f"{V1}/Conversations/{chat}/Messages/{agents['sid']}"))
            refused_as_chat_action(await guest.post(f"{V1}/Conversations/{chat}", data={"FriendlyName": "mine"}))
            refused_as_chat_action(await guest.post(f"{V1}/Conversations/{chat}/Participants",
                                                    data={"Identity": "friend"}))
            bodies = [m["body"] for m in (await account.get(f"{V1}/Conversations/{chat}/Messages")).json()["messages"]]
            assert bodies == ["Hello Bo", "hi!"]
            assert (await guest.delete(f"{V1}/Conversations/{chat}/Messages/{own['sid']}")).status_code == 204
            assert (await guest.delete(f"{V1}/Conversations/{chat}/Participants/guest-bo")).status_code == 204
            # Gone from it, the conversation no longer exists for the guest.
            assert (await guest.get(f"{V1}/Conversations/{chat}")).status_code == 404
        assert await participants(account, chat) == ["agent-cy"]


async def test_a_refusing_pre_event_webhook_stops_a_chat_users_message(parley: RunningParley,
                                                                        receiver: Receiver) -> None:
    def refuse_pre_events(request: ReceivedRequest) -> Response | None:
        return Response(status_code=403) if request.path == "/pre" else None

    receiver.responder = refuse_pre_events
    async with parley.client() as account:
        await account.post(f"{V1}/Configuration/Webhooks", data={
            "PreWebhookUrl": f"{receiver.url}/pre", "Filters": ["onMessageAdd"], "Method": "POST",
            "Target": "webhook"})
        chat, guest_token = await start_guest_chat(account, "guest-di")
        async with as_token(parley, guest_token) as guest:
            refused = await guest.post(f"{V1}/Conversations/{chat}/Messages", data={"Body": "spam"})
        assert refused.status_code == 403, refused.text
        assert (await account.get(f"{V1}/Conversations/{chat}/Messages")).json()["messages"] == []


async def test_tokens_from_twilios_helper_are_accepted_and_bad_ones_refused(parley: RunningParley) -> None:
    async with parley.client() as account:
        chat, _ = await start_guest_chat(account, "guest-eve")
        key = (await account.post(f"/api/2010-04-01/Accounts/{parley.account.sid}/Keys.json",
                                  data={"FriendlyName": "token server"})).json()
        service = (await account.get(f"{V1}/Conversations/{chat}")).json()["chat_service_sid"]

    def minted(secret: str, **options: Any) -> str:
        token = AccessToken(parley.account.sid, key["sid"], secret, identity="guest-eve", **options)
        token.add_grant(ChatGrant(service_sid=service))
        return str(token.to_jwt())

    async with as_token(parley, minted(key["secret"])) as eve:
        response = await eve.get(f"{V1}/Conversations/{chat}/Messages")
        assert response.status_code == 200, response.text
        # Default deny: account-only resources stay account-only, whatever the token grants.
        for forbidden in (await eve.get(f"{V1}/Roles"), await eve.post(f"{V1}/Conversations", data={}),
                          await eve.get(f"{V1}/Configuration/Webhooks")):
            assert (forbidden.status_code, forbidden.json()["code"]) == (403, 20403), forbidden.text
    async with as_token(parley, minted("not-the-secret-" + "0" * 32)) as forged:
        response = await forged.get(f"{V1}/Conversations/{chat}")
        assert (response.status_code, response.json()["code"]) == (401, 20101)
    expired = minted(key["secret"], nbf=int(time.time()) - 7200, valid_until=int(time.time()) - 3600)
    async with as_token(parley, expired, bearer=True) as late:
        response = await late.get(f"{V1}/Conversations/{chat}")
        assert (response.status_code, response.json()["code"]) == (401, 20104)
    async with httpx.AsyncClient(base_url=parley.base_url) as nobody:
        response = await nobody.get(f"{V1}/Conversations/{chat}")
        assert (response.status_code, response.json()["code"]) == (401, 20003)


async def test_a_guest_uploads_and_sends_media_and_finds_its_conversations(parley: RunningParley) -> None:
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    async with parley.client() as account:
        chat, guest_token = await start_guest_chat(account, "guest-fay")
        _, other_token = await start_guest_chat(account, "guest-gus")
        await account.post(f"{V1}/Conversations/{chat}/Participants", data={"Identity": "agent-hal"})
        service = (await account.get(f"{V1}/Conversations/{chat}")).json()["chat_service_sid"]
        await account.post(f"{V1}/Services/{service}/Users", data={"Identity": "guest-fay"})
        hal_token = await agent_token(account, "agent-hal")
    media_root = f"/mcs/v1/Services/{service}/Media"
    async with as_token(parley, guest_token) as fay:
        uploaded = await fay.post(media_root, content=picture, headers={"Content-Type": "image/png"})
        assert uploaded.status_code == 201, uploaded.text
        media_sid = uploaded.json()["sid"]
        sent = await fay.post(f"{V1}/Conversations/{chat}/Messages", data={"MediaSid": media_sid})
        assert sent.status_code == 201, sent.text
        assert [m["sid"] for m in sent.json()["media"]] == [media_sid]
        # Its conversations, the ways an SDK client finds them.
        mine = await fay.get(f"{V1}/ParticipantConversations", params={"Identity": "guest-fay"})
        assert [c["conversation_sid"] for c in mine.json()["conversations"]] == [chat]
        refused_as_chat_action(await fay.get(f"{V1}/ParticipantConversations", params={"Identity": "guest-gus"}))
        user_conversations = await fay.get(f"{V1}/Users/guest-fay/Conversations")
        assert [c["conversation_sid"] for c in user_conversations.json()["conversations"]] == [chat]
        assert (await fay.get(f"{V1}/Users/agent-hal/Conversations")).status_code == 404
        forbidden_elsewhere = await fay.post("/mcs/v1/Services/IS" + "0" * 32 + "/Media", content=picture,
                                             headers={"Content-Type": "image/png"})
        assert forbidden_elsewhere.status_code == 404
    async with as_token(parley, hal_token) as hal:  # a member of the conversation it was sent in
        content = await hal.get(f"{media_root}/{media_sid}/Content")
        assert (content.status_code, content.content) == (200, picture)
    async with as_token(parley, other_token) as gus:  # not a member: the media does not exist for it
        assert (await gus.get(f"{media_root}/{media_sid}")).status_code == 404
