"""The web-chat widget from the customer's side, in Chromium, against Parley routing the chat to a queue.

The agent's side is played over REST and the agent's own WebSocket (the desk has its own tests): the agent
accepts the offer, types, replies and reads; the customer sees all of it, sends a picture, reloads the page
without losing the chat, and is told when the chat has ended.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import expect
from starlette.responses import HTMLResponse, Response
from websockets.asyncio.client import ClientConnection, connect

from tests.browser.conftest import Pages
from tests.browser.widget_support import open_chat, widget_log
from tests.support.parley import RunningParley
from tests.support.pictures import png
from tests.support.realtime import ws_url
from tests.support.receiver import ReceivedRequest, Receiver
from tests.support.waiting import eventually
from tests.support.web_chat_center import WebChatCenter, set_activity

PICTURE = png(96, 64, (230, 126, 34))
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


# Live updates cross the broker, the database and the socket: on a loaded machine 5 s (Playwright's default) is short.
expect.set_options(timeout=10_000)

class AgentSocket:
    """A realtime connection held by the test: the agent's, as the desk holds it (or a guest's second one)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def next_of(self, wanted: str, *, where: Any = lambda message: True, timeout: float = 10.0) -> dict[str, Any]:
        for message in self.seen:
            if message["type"] == wanted and where(message):
                return message

        async def read() -> dict[str, Any]:
            while True:
                message = json.loads(await self.ws.recv())
                self.seen.append(message)
                if message["type"] == wanted and where(message):
                    return dict(message)

        return await asyncio.wait_for(read(), timeout)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))


@pytest.fixture
async def agent_socket(web: RunningParley, account: httpx.AsyncClient) -> AsyncIterator[AgentSocket]:
    token = (await account.post("/parley/v1/AccessTokens", data={"Identity": "alice"})).json()["token"]
    ws = await connect(ws_url(web, token=token))
    socket = AgentSocket(ws)
    assert (await socket.next_of("connected"))["identity"] == "alice"
    yield socket
    await ws.close()


async def accept_the_chat(account: httpx.AsyncClient, center: WebChatCenter) -> tuple[str, str]:
    """Alice becomes available and accepts the web chat's offer; returns the task and conversation SIDs."""
    await set_activity(account, center, "alice", "Available")

    async def pending() -> list[dict[str, Any]]:
        found = await account.get(f"{center.ws}/Workers/{center.agents['alice'].worker_sid}/Reservations",
                                  params={"ReservationStatus": "pending"})
        return list(found.json()["reservations"])

    reservation = (await eventually(pending, what="alice's offer"))[0]
    accepted = await account.post(f"{center.ws}/Tasks/{reservation['task_sid']}/Reservations/{reservation['sid']}",
                                  data={"ReservationStatus": "accepted"})
    assert accepted.status_code == 200, accepted.text
    task = (await account.get(f"{center.ws}/Tasks/{reservation['task_sid']}")).json()
    return task["sid"], json.loads(task["attributes"])["conversationSid"]


async def test_a_customer_chats_with_an_agent_from_the_widget(
    pages: Pages, center: WebChatCenter, account: httpx.AsyncClient, agent_socket: AgentSocket
) -> None:
    page = await open_chat(pages, center)
    log = widget_log(page)
    _, conversation_sid = await accept_the_chat(account, center)
    await agent_socket.next_of("participant.added", where=lambda m: m["conversation_sid"] == conversation_sid)
    messages = f"/conversations/v1/Conversations/{conversation_sid}/Messages"

    # The agent types, then replies: the customer sees both.
    await agent_socket.send({"type": "typing", "conversation_sid": conversation_sid})
    await expect(page.get_by_text("Agent is typing…")).to_be_visible()
    await pages.screenshot(page, "agent-typing")
    reply = await account.post(messages, data={"Author": "alice", "Body": "Hi Ana, let me look that up."})
    assert reply.status_code == 201, reply.text
    await expect(log.get_by_text("Hi Ana, let me look that up.")).to_be_visible()
    await expect(page.get_by_text("Agent is typing…")).to_be_hidden()

    # The customer has read the reply: the agent hears of it.
    reply_index = reply.json()["index"]
    horizon = await agent_socket.next_of("read_horizon", where=lambda m: m["last_read_message_index"] >= reply_index)
    guest = horizon["identity"]
    assert guest.startswith("guest-")

    # The customer types: the agent sees it; the agent reads the question: the customer sees "Read".
    await page.get_by_role("textbox", name="Message").press_sequentially("Thanks")
    await agent_socket.next_of("typing", where=lambda m: m["identity"] == guest)
    await page.get_by_role("textbox", name="Message").press("Enter")
    thanks = log.get_by_role("listitem").filter(has_text="Thanks")
    await expect(thanks.get_by_text("Sent")).to_be_visible()
    thanks_index = int(await thanks.get_attribute("data-index") or -1)
    await agent_socket.send({"type": "read", "conversation_sid": conversation_sid, "index": thanks_index})
    await expect(thanks.get_by_text("Read")).to_be_visible()
    await expect(log.get_by_role("listitem").filter(has_text="Where is my order?").get_by_text("Read")).to_be_visible()
    await pages.screenshot(page, "read-receipts")

    # A picture, uploaded with the guest's token, reaches the agent as a media message.
    await page.locator("#parley-attach").set_input_files(
        files=[{"name": "parcel.png", "mimeType": "image/png", "buffer": PICTURE}])
    await expect(log.get_by_role("img", name="parcel.png")).to_be_visible()
    with_media = await agent_socket.next_of("message.added", where=lambda m: m["resource"].get("media"))
    assert with_media["resource"]["author"] == guest
    assert with_media["resource"]["media"][0]["content_type"] == "image/png"
    await pages.screenshot(page, "picture-sent")
    await page.locator("#parley-attach").set_input_files(
        files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    await expect(log.get_by_role("link", name="receipt.pdf")).to_have_attribute("href", re.compile("/Content/Direct"))
    with_pdf = await agent_socket.next_of(
        "message.added", where=lambda m: (m["resource"].get("media") or [{}])[0].get("content_type") == "application/pdf")
    assert with_pdf["resource"]["author"] == guest

    # And the agent's picture reaches the customer.
    service_sid = (await account.get(f"/conversations/v1/Conversations/{conversation_sid}")).json()["chat_service_sid"]
    uploaded = await account.post(f"/mcs/v1/Services/{service_sid}/Media", content=png(80, 48, (46, 160, 67)),
                                  headers={"Content-Type": "image/png"}, params={"Filename": "label.png"})
    assert uploaded.status_code == 201, uploaded.text
    sent = await account.post(messages, data={"Author": "alice", "MediaSid": uploaded.json()["sid"]})
    assert sent.status_code == 201, sent.text
    await expect(log.get_by_role("img", name="label.png")).to_be_visible()

    # A reload keeps the chat: the same messages, once each, and it goes on.
    count = await log.get_by_role("listitem").count()
    await page.reload()
    await expect(log.get_by_role("listitem")).to_have_count(count)
    await expect(log.get_by_text("Hi Ana, let me look that up.")).to_have_count(1)
    after = await account.post(messages, data={"Author": "alice", "Body": "Found it: it ships tomorrow."})
    assert after.status_code == 201
    await expect(log.get_by_text("Found it: it ships tomorrow.")).to_be_visible()
    await expect(log.get_by_role("listitem")).to_have_count(count + 1)
    await pages.screenshot(page, "after-reload")

    # With the panel closed, the launcher says what came in meanwhile; opening it clears that.
    launcher = page.get_by_role("button", name="Chat with us", exact=True)
    await page.get_by_role("button", name="Close chat").click()
    await account.post(messages, data={"Author": "alice", "Body": "Anything else?"})
    await expect(launcher).to_have_accessible_description("1 new message")
    await pages.screenshot(page, "new-message-badge")
    await launcher.click()
    await expect(log.get_by_text("Anything else?")).to_be_visible()
    await expect(page.get_by_text("1 new message")).to_have_count(0)

    # The conversation closes: the widget says the chat has ended, and offers a new one.
    closed = await account.post(f"/conversations/v1/Conversations/{conversation_sid}", data={"State": "closed"})
    assert closed.status_code == 200, closed.text
    await expect(page.get_by_text("This chat has ended.")).to_be_visible()
    await expect(page.get_by_role("textbox", name="Message")).to_have_count(0)
    await pages.screenshot(page, "chat-ended")
    await page.reload()
    await expect(page.get_by_text("This chat has ended.")).to_be_visible()
    await page.get_by_role("button", name="Start a new chat").click()
    await expect(page.get_by_label("Your name")).to_be_visible()


async def test_the_widget_works_on_a_phone_says_when_it_is_offline_and_catches_up_after(
    pages: Pages, web: RunningParley, center: WebChatCenter, account: httpx.AsyncClient
) -> None:
    page = await open_chat(pages, center, phone=True)
    assert await page.evaluate("document.documentElement.scrollWidth <= screen.width")
    await pages.screenshot(page, "phone")
    stored = json.loads(await page.evaluate(f"localStorage.getItem('parley.webchat.{center.address_sid}')"))
    conversation_sid = stored["conversationSid"]
    await page.context.set_offline(True)
    await page.evaluate("() => window.dispatchEvent(new Event('offline'))")
    # Chromium's offline mode leaves open sockets alone: the widget listens to the browser's own signal.
    await expect(page.get_by_role("status").filter(has_text="offline")).to_be_visible()
    await pages.screenshot(page, "offline")

    # The chat closes while the customer is away (a second socket of the guest's shows the news has gone
    # out, so the widget cannot get it live): back online, the widget looks again and learns it.
    async with connect(ws_url(web, token=stored["token"])) as observer:
        watcher = AgentSocket(observer)
        await watcher.next_of("connected")
        closed = await account.post(f"/conversations/v1/Conversations/{conversation_sid}", data={"State": "closed"})
        assert closed.status_code == 200
        await watcher.next_of("conversation.updated")
    await page.context.set_offline(False)
    await page.evaluate("() => window.dispatchEvent(new Event('online'))")
    await expect(page.get_by_text("This chat has ended.")).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="offline")).to_have_count(0)


async def test_the_one_script_tag_works_on_a_business_site_of_another_origin(
    pages: Pages, web: RunningParley, center: WebChatCenter, account: httpx.AsyncClient
) -> None:
    def shop_page(_: ReceivedRequest) -> Response:
        return HTMLResponse(
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Shop</title></head><body>"
            "<h1>Another business</h1>"
            f'<script src="{web.base_url}/webchat/widget.js" data-address-sid="{center.address_sid}" defer></script>'
            "</body></html>")

    shop = Receiver(responder=shop_page)
    await shop.start()
    try:
        assert not shop.url.startswith(web.base_url)
        page = await open_chat(pages, center, url=f"{shop.url}/")
        _, conversation_sid = await accept_the_chat(account, center)
        reply = await account.post(f"/conversations/v1/Conversations/{conversation_sid}/Messages",
                                   data={"Author": "alice", "Body": "Hello from Parley"})
        assert reply.status_code == 201
        await expect(widget_log(page).get_by_text("Hello from Parley")).to_be_visible()
        await pages.screenshot(page, "another-origin")
    finally:
        await shop.stop()
