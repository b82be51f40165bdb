"""What the agent-desktop browser tests stand on: a contact center (workspace, queue, workflow, agents who
sign in with email and password) and a web-chat customer driven over HTTP and the realtime WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from playwright.async_api import Page, expect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.parley import RunningParley
from tests.support.waiting import eventually

PASSWORD = "correct horse battery"


def png(width: int = 160, height: int = 100, rgb: tuple[int, int, int] = (11, 92, 173)) -> bytes:
    """A solid-colour PNG: what the customer sends as a picture (big enough to see in a screenshot)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@dataclass
class DeskAgent:
    name: str
    worker_sid: str
    email: str


@dataclass
class Center:
    parley: RunningParley
    http: httpx.AsyncClient
    workspace_sid: str
    workflow_sid: str
    queue_sid: str
    activities: dict[str, str]
    agents: dict[str, DeskAgent]

    @property
    def ws(self) -> str:
        return f"/taskrouter/v1/Workspaces/{self.workspace_sid}"

    async def post(self, path: str, data: dict[str, Any] | None = None, status: int = 200) -> dict[str, Any]:
        response = await self.http.post(path, data=data or {})
        assert response.status_code == status, response.text
        return dict(response.json())

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = await self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def set_activity(self, agent: str, activity: str) -> None:
        await self.post(f"{self.ws}/Workers/{self.agents[agent].worker_sid}", {"ActivitySid": self.activities[activity]})

    async def reservations_of(self, agent: str, status: str) -> list[dict[str, Any]]:
        found = await self.get(f"{self.ws}/Workers/{self.agents[agent].worker_sid}/Reservations",
                               ReservationStatus=status)
        return list(found["reservations"])

    async def task(self, task_sid: str) -> dict[str, Any]:
        return await self.get(f"{self.ws}/Tasks/{task_sid}")


async def _create(client: httpx.AsyncClient, path: str, data: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, data=data)
    assert response.status_code == 201, response.text
    return dict(response.json())


@contextlib.asynccontextmanager
async def contact_center(parley: RunningParley, *, reservation_timeout: int = 120) -> AsyncIterator[Center]:
    async with parley.client() as http:
        workspace = await _create(http, "/taskrouter/v1/Workspaces", {"FriendlyName": "Support desk"})
        ws = f"/taskrouter/v1/Workspaces/{workspace['sid']}"
        activities = {a["friendly_name"]: a["sid"] for a in (await http.get(f"{ws}/Activities")).json()["activities"]}
        queue = await _create(http, f"{ws}/TaskQueues", {"FriendlyName": "Support",
                                                         "TargetWorkers": "skills HAS 'support'"})
        workflow = await _create(http, f"{ws}/Workflows", {
            "FriendlyName": "Inbound", "TaskReservationTimeout": str(reservation_timeout),
            "Configuration": json.dumps({"task_routing": {"filters": [], "default_filter": {"queue": queue["sid"]}}})})
        agents = {}
        for name in ("alice", "bob"):
            worker = await _create(http, f"{ws}/Workers", {"FriendlyName": name.title(), "Attributes": json.dumps(
                {"contact_uri": f"client:{name}", "skills": ["support"]})})
            email = f"{name}@example.com"
            await _create(http, "/parley/v1/Agents", {
                "Identity": name, "FriendlyName": name.title(), "Email": email, "Password": PASSWORD,
                "WorkspaceSid": workspace["sid"], "WorkerSid": worker["sid"]})
            agents[name] = DeskAgent(name=name, worker_sid=worker["sid"], email=email)
        yield Center(parley=parley, http=http, workspace_sid=workspace["sid"], workflow_sid=workflow["sid"],
                     queue_sid=queue["sid"], activities=activities, agents=agents)


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
    socket = await connect(f"ws://127.0.0.1:{center.parley.port}/ingress/ws?token={token}")
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


async def sign_in(page: Page, agent: DeskAgent, password: str = PASSWORD) -> None:
    """Any agent with an `email` (this module's DeskAgent, or tests/support/web_chat_center.py's Agent)."""
    await page.get_by_label("Email").fill(agent.email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()


async def choose_activity(page: Page, activity: str) -> None:
    await page.get_by_label("Activity").select_option(label=activity)
    await expect(page.get_by_role("status").filter(has_text=f"You are now {activity}.")).to_be_visible()
