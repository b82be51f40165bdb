"""What the agent-desktop browser tests stand on: a contact center (workspace, queue, workflow, agents who
sign in with email and password) and a web-chat customer driven over HTTP and the realtime WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from playwright.async_api import Page, expect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.browser.conftest import Pages
from tests.support.parley import RunningParley
from tests.support.pictures import png
from tests.support.realtime import ws_url
from tests.support.waiting import eventually
from tests.support.web_chat_center import Agent
from tests.support.workspace_client import WorkspaceCalls, create, set_up_support_workspace

PASSWORD = "correct horse battery"


@dataclass
class DeskAgent:
    name: str
    worker_sid: str
    email: str
    account_sid: str


@dataclass
class Center(WorkspaceCalls):
    parley: RunningParley
    http: httpx.AsyncClient
    workspace_sid: str
    workflow_sid: str
    queue_sid: str
    activities: dict[str, str]
    agents: dict[str, DeskAgent]

    async def set_activity(self, agent: str, activity: str) -> None:
        await self.post(f"{self.ws}/Workers/{self.agents[agent].worker_sid}", {"ActivitySid": self.activities[activity]})

    async def reservations_of(self, agent: str, status: str) -> list[dict[str, Any]]:
        found = await self.get(f"{self.ws}/Workers/{self.agents[agent].worker_sid}/Reservations",
                               ReservationStatus=status)
        return list(found["reservations"])


@contextlib.asynccontextmanager
async def contact_center(parley: RunningParley, *, reservation_timeout: int = 120) -> AsyncIterator[Center]:
    async with parley.client() as http:
        support = await set_up_support_workspace(
            http, name="Support desk", workflow={"TaskReservationTimeout": str(reservation_timeout)})
        agents = {}
        for name, worker_sid in support.workers.items():
            email = f"{name}@example.com"
            agent = await create(http, "/parley/v1/Agents", {
                "Identity": name, "FriendlyName": name.title(), "Email": email, "Password": PASSWORD,
                "WorkspaceSid": support.workspace_sid, "WorkerSid": worker_sid})
            agents[name] = DeskAgent(name=name, worker_sid=worker_sid, email=email, account_sid=agent["account_sid"])
        yield Center(parley=parley, http=http, workspace_sid=support.workspace_sid, workflow_sid=support.workflow_sid,
                     queue_sid=support.queue_sid, activities=support.activities, agents=agents)


@dataclass
class Customer:
    """A web-chat guest in a conversation: writes over HTTP, reads and types over the realtime WebSocket."""

    center: Center
    identity: str
    conversation_sid: str
    task_sid: str
    socket: ClientConnection
    received: list[dict[str, Any]] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):  # Parley stopping at the end of the test
            async for raw in self.socket:
                self.received.append(json.loads(raw))

    async def close(self) -> None:
        await self.socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def write(self, body: str, media_sid: str | None = None) -> dict[str, Any]:
        data = {"Author": self.identity, "Body": body} if body else {"Author": self.identity}
        if media_sid:
            data["MediaSid"] = media_sid
        return await self.center.post(f"/conversations/v1/Conversations/{self.conversation_sid}/Messages", data,
                                      status=201)

    async def send_picture(self, filename: str) -> dict[str, Any]:
        conversation = await self.center.get(f"/conversations/v1/Conversations/{self.conversation_sid}")
        response = await self.center.http.post(
            f"/mcs/v1/Services/{conversation['chat_service_sid']}/Media", params={"Filename": filename},
            content=png(), headers={"Content-Type": "image/png"})
        assert response.status_code == 201, response.text
        return await self.write("", media_sid=response.json()["sid"])

    async def read_up_to(self, index: int) -> None:
        await self.socket.send(json.dumps({"type": "read", "conversation_sid": self.conversation_sid, "index": index}))

    async def sees(self, type_: str, *, author: str | None = None, identity: str | None = None,
                   body: str | None = None, joined: str | None = None) -> dict[str, Any]:
        def match(message: dict[str, Any]) -> bool:
            resource = message.get("resource") or {}
            return (message.get("type") == type_ and (author is None or resource.get("author") == author)
                    and (identity is None or message.get("identity") == identity)
                    and (body is None or resource.get("body") == body)
                    and (joined is None or resource.get("identity") == joined))

        async def found() -> list[dict[str, Any]]:
            return [message for message in self.received if match(message)]

        return (await eventually(found, what=f"the customer's socket to see {type_}"))[0]


async def customer_chat(center: Center, *, name: str = "Ada Lovelace", identity: str = "guest-ada",
                        first_message: str | None = None) -> Customer:
    """A guest in a new chat conversation, routed to the workspace as a Flex web interaction."""
    conversation = await center.post("/conversations/v1/Conversations", {"FriendlyName": f"Chat with {name}"},
                                     status=201)
    await center.post(f"/conversations/v1/Conversations/{conversation['sid']}/Participants",
                      {"Identity": identity, "Attributes": json.dumps({"friendlyName": name})}, status=201)
    token = (await center.post("/ingress/webchat/tokens", {"Identity": identity}, status=201))["token"]
    socket = await connect(ws_url(center.parley, token=token))
    hello = json.loads(await socket.recv())
    assert hello["type"] == "connected", hello
    if first_message:
        await center.post(f"/conversations/v1/Conversations/{conversation['sid']}/Messages",
                          {"Author": identity, "Body": first_message}, status=201)
    created = await center.post("/flex-api/v1/Interactions", {
        "Channel": json.dumps({"type": "web", "initiated_by": "customer",
                               "properties": {"media_channel_sid": conversation["sid"]}}),
        "Routing": json.dumps({"properties": {
            "workspace_sid": center.workspace_sid, "workflow_sid": center.workflow_sid,
            "task_channel_unique_name": "chat", "attributes": {"customerName": name, "from": name}}}),
    })
    customer = Customer(center=center, identity=identity, conversation_sid=conversation["sid"],
                        task_sid=created["routing"]["properties"]["sid"], socket=socket)
    customer.start()
    return customer


async def fill_sign_in(page: Page, agent: DeskAgent | Agent, password: str) -> None:
    """The desk's or the supervisor view's sign-in form, for any agent with an `account_sid` and an `email` (this
    module's DeskAgent, or tests/support/web_chat_center.py's Agent); a sign-in link may have named the account."""
    await page.get_by_label("Account SID").fill(agent.account_sid)
    await page.get_by_label("Email").fill(agent.email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def sign_in(page: Page, agent: DeskAgent | Agent, password: str = PASSWORD) -> None:
    await fill_sign_in(page, agent, password)
    await expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()


async def open_desk(pages: Pages, agent: DeskAgent, *, password: str = PASSWORD, phone: bool = False) -> Page:
    """The agent signed in at the desk, and available for offers."""
    page = await pages.open("/desk/", phone=phone)
    await sign_in(page, agent, password)
    await choose_activity(page, "Available")
    return page


async def choose_activity(page: Page, activity: str) -> None:
    await page.get_by_label("Activity").select_option(label=activity)
    await expect(page.get_by_role("status").filter(has_text=f"You are now {activity}.")).to_be_visible()
