"""What the web-chat widget relies on: a chat started with the address SID alone, routed to a queue by the
address's flow on the guest's first message, and the conversation's closing pushed to the guest's socket."""

import json
from typing import Any

import httpx
import jwt
import pytest
from websockets.asyncio.client import ClientConnection, connect

from services.ingress.webchat_limits import StartLimiter
from shared.demo_web_chat import set_up_demo
from shared.errors import TwilioError
from shared.settings import Settings
from tests.conftest import StartParley
from tests.support.parley import RunningParley
from tests.support.realtime import receive, ws_url
from tests.support.waiting import eventually
from tests.support.web_chat_center import WebChatCenter, set_up_web_chat_center


@pytest.fixture
async def center(parley: RunningParley) -> WebChatCenter:
    async with parley.client() as client:
        return await set_up_web_chat_center(client)


async def receive_type(ws: ClientConnection, wanted: str) -> dict[str, Any]:
    while (message := await receive(ws))["type"] != wanted:
        pass
    return message


async def start_as_widget(parley: RunningParley, address_sid: str, **extra: str) -> httpx.Response:
    """As the widget on a web page does: no credentials at all."""
    async with httpx.AsyncClient(base_url=parley.base_url) as browser:
        return await browser.post("/flex-api/v2/WebChats", data={"AddressSid": address_sid, **extra})


async def test_a_widget_starts_a_chat_with_the_address_sid_alone_and_gets_the_guests_token(
    parley: RunningParley, center: WebChatCenter, sockets: list[ClientConnection]
) -> None:
    response = await start_as_widget(parley, center.address_sid, CustomerFriendlyName="Ana",
                                     PreEngagementData=json.dumps({"email": "ana@example.com"}),
                                     Identity="alice")  # never honoured without credentials
    assert response.status_code == 201, response.text
    started = response.json()
    assert set(started) == {"conversation_sid", "identity", "token"}
    assert started["identity"].startswith("guest-")
    claims = jwt.decode(started["token"], options={"verify_signature": False})  # the socket below verifies it
    assert claims["sub"] == parley.account.sid
    assert claims["grants"]["identity"] == started["identity"] and "task_router" not in claims["grants"]
    assert claims["grants"]["chat"]["service_sid"].startswith("IS")

    ws = await connect(ws_url(parley, token=started["token"]))
    sockets.append(ws)
    hello = await receive(ws)
    assert hello["conversations"] == [started["conversation_sid"]]


async def test_without_credentials_only_a_chat_address_sid_starts_a_chat(
    parley: RunningParley, center: WebChatCenter
) -> None:
    async with parley.client() as client:
        sms = (await client.post("/conversations/v1/Configuration/Addresses", data={
            "Type": "sms", "Address": "+15550001111", "AutoCreation.Enabled": "true",
            "AutoCreation.Type": "default"})).json()
        before = (await client.get("/conversations/v1/Conversations")).json()["conversations"]
    by_address = await start_as_widget(parley, "website-chat")
    assert (by_address.status_code, by_address.json()["code"]) == (400, 20001)
    for refused in (sms["sid"], "IG" + "0" * 32):  # an SMS address is as unknown as a missing one
        answer = await start_as_widget(parley, refused)
        assert (answer.status_code, answer.json()["code"]) == (404, 20404), answer.text
    wrong = await httpx.AsyncClient(base_url=parley.base_url, auth=("AC" + "0" * 32, "nope")).post(
        "/flex-api/v2/WebChats", data={"AddressSid": center.address_sid})
    assert wrong.status_code == 401  # credentials, when given, must be right
    async with parley.client() as client:
        assert (await client.get("/conversations/v1/Conversations")).json()["conversations"] == before


async def test_the_guests_first_message_runs_the_addresss_flow_into_the_queue(
    parley: RunningParley, center: WebChatCenter
) -> None:
    started = (await start_as_widget(parley, center.address_sid, CustomerFriendlyName="Ana")).json()
    conversation_sid = started["conversation_sid"]
    async with parley.client() as client:
        async def queued() -> list[dict[str, Any]]:
            return list((await client.get(f"{center.ws}/Tasks")).json()["tasks"])

        assert await queued() == []
        posted = await client.post(f"/conversations/v1/Conversations/{conversation_sid}/Messages",
                                   data={"Author": started["identity"], "Body": "Where is my order?"})
        assert posted.status_code == 201, posted.text
        tasks = await eventually(queued, what="the web chat's task")
        assert len(tasks) == 1 and tasks[0]["task_queue_sid"] == center.queue_sid
        attributes = json.loads(tasks[0]["attributes"])
        assert attributes["conversationSid"] == conversation_sid and attributes["channelType"] == "web"

        # Only the first message routes; later ones add nothing.
        await client.post(f"/conversations/v1/Conversations/{conversation_sid}/Messages",
                          data={"Author": started["identity"], "Body": "Hello?"})
        await client.post(f"/conversations/v1/Conversations/{conversation_sid}/Messages",
                          data={"Author": "system", "Body": "marker"})
        await eventually(lambda: client.get(f"/conversations/v1/Conversations/{conversation_sid}/Messages"),
                         until=lambda answer: len(answer.json()["messages"]) == 3, what="three messages")
        assert len(await queued()) == 1


async def test_the_guests_socket_hears_the_conversation_close(
    parley: RunningParley, center: WebChatCenter, sockets: list[ClientConnection]
) -> None:
    started = (await start_as_widget(parley, center.address_sid)).json()
    ws = await connect(ws_url(parley, token=started["token"]))
    sockets.append(ws)
    assert (await receive(ws))["type"] == "connected"
    async with parley.client() as client:
        closed = await client.post(f"/conversations/v1/Conversations/{started['conversation_sid']}",
                                   data={"State": "closed"})
        assert closed.status_code == 200, closed.text
    update = await receive_type(ws, "conversation.updated")
    assert update["conversation_sid"] == started["conversation_sid"]
    assert update["resource"]["state"] == "closed"


async def test_the_demo_set_up_gives_the_widget_an_address_that_reaches_available_agents(parley: RunningParley) -> None:
    printed = await set_up_demo(parley.base_url, parley.account.sid, parley.account.auth_token)
    address_sid = printed.split("?address=")[1].split()[0]
    started = (await start_as_widget(parley, address_sid)).json()
    async with parley.client() as client:
        workspaces = (await client.get("/taskrouter/v1/Workspaces")).json()["workspaces"]
        ws = f"/taskrouter/v1/Workspaces/{workspaces[0]['sid']}"
        await client.post(f"/conversations/v1/Conversations/{started['conversation_sid']}/Messages",
                          data={"Author": started["identity"], "Body": "Hello"})

        async def reserved() -> list[dict[str, Any]]:
            return list((await client.get(f"{ws}/Tasks", params={"AssignmentStatus": "reserved"})).json()["tasks"])

        await eventually(reserved, what="the demo chat offered to an available agent")
    assert "alice@example.com" in printed and "/supervisor/" in printed


def test_the_start_limit_counts_a_sliding_minute_per_client() -> None:
    limiter = StartLimiter(2)
    limiter.check("10.0.0.1", now=0.0)
    limiter.check("10.0.0.1", now=30.0)
    with pytest.raises(TwilioError) as refused:
        limiter.check("10.0.0.1", now=59.0)
    assert (refused.value.status, refused.value.code) == (429, 20429)
    limiter.check("10.0.0.2", now=59.0)  # another client has its own share
    limiter.check("10.0.0.1", now=60.5)  # the first start has left the window
    StartLimiter(0).check("10.0.0.1")  # 0: no limit


async def test_a_browser_starting_too_many_chats_is_told_to_wait(launch: StartParley, settings: Settings) -> None:
    parley = await launch(settings=settings.model_copy(update={"webchat_starts_per_minute": 2}))
    async with parley.client() as client:
        center = await set_up_web_chat_center(client)
        before = len((await client.get("/conversations/v1/Conversations")).json()["conversations"])
    assert [(await start_as_widget(parley, center.address_sid)).status_code for _ in range(3)] == [201, 201, 429]
    refused = await start_as_widget(parley, center.address_sid)
    assert refused.json()["code"] == 20429
    async with parley.client() as client:
        after = len((await client.get("/conversations/v1/Conversations")).json()["conversations"])
        assert after == before + 2
        # The business's own server, with credentials, is not a browser: no limit.
        answer = await client.post("/flex-api/v2/WebChats", data={"AddressSid": center.address_sid})
        assert answer.status_code == 201
