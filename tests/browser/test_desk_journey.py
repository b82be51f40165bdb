"""Issue #9's whole journey in two browsers: a customer in the demo page's widget, an agent at the desk.

The customer fills the pre-engagement form and writes; the available agent sees the offer with a
countdown, accepts, sees the message, types and replies; the customer sees the typing and the reply;
the agent sees the customer's read receipt; the customer sends a picture and the agent sees it; the
agent wraps up and completes; the customer's widget says the chat has ended.
"""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Pages
from tests.browser.desk_support import choose_activity, sign_in
from tests.support.parley import RunningParley
from tests.support.waiting import eventually
from tests.support.web_chat_center import WebChatCenter, set_up_web_chat_center


def picture(width: int = 120, height: int = 80) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes((46, 160, 67)) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture
async def center(web: RunningParley) -> WebChatCenter:
    async with web.client() as client:
        return await set_up_web_chat_center(client)


async def test_a_customer_in_the_widget_and_an_agent_at_the_desk_end_to_end(
    pages: Pages, web: RunningParley, center: WebChatCenter
) -> None:
    alice = center.agents["alice"]
    desk = await pages.open("/desk/")
    await sign_in(desk, alice, alice.password)  # type: ignore[arg-type]
    await choose_activity(desk, "Available")

    # The customer opens the demo page, fills the pre-engagement form and writes.
    customer = await pages.open(f"/webchat/?address={center.address_sid}")
    await customer.get_by_role("button", name="Chat with us", exact=True).click()
    form = customer.get_by_role("dialog", name="Chat with us")
    await form.get_by_label("Your name").fill("Ana Lima")
    await form.get_by_label("Email").fill("ana@example.com")
    await form.get_by_label("How can we help?").fill("Where is my order?")
    await pages.screenshot(customer, "customer-pre-engagement")
    await form.get_by_role("button", name="Start chat").click()
    widget_log = customer.get_by_role("log", name="Messages")
    await expect(widget_log.get_by_text("Where is my order?")).to_be_visible()

    # The agent sees the offer, with its channel and a countdown, and accepts it in one click.
    offer = desk.get_by_role("region", name="Offers").get_by_role("listitem")
    await expect(offer).to_have_count(1)
    await expect(offer.get_by_test_id("countdown")).to_have_text(re.compile(r"^\d+$"))
    await expect(offer).to_contain_text("Expires in")
    await pages.screenshot(desk, "agent-offer")
    await offer.get_by_role("button", name="Accept").click()
    chat = desk.get_by_role("log", name="Messages")
    await expect(chat).to_contain_text("Where is my order?")

    # The agent types, then replies: the customer sees both.
    composer = desk.get_by_label("Message", exact=True)
    await composer.press_sequentially("Hi Ana, let me look")
    await expect(customer.get_by_text("Agent is typing…")).to_be_visible()
    await pages.screenshot(customer, "customer-sees-typing")
    await composer.press_sequentially(" that up.")
    await desk.get_by_role("button", name="Send").click()
    await expect(widget_log.get_by_text("Hi Ana, let me look that up.")).to_be_visible()

    # The customer's widget marks the reply read: the agent sees the read receipt.
    reply = chat.get_by_role("listitem").filter(has_text="Hi Ana, let me look that up.")
    await expect(reply.get_by_text("Read")).to_be_visible()

    # The customer sends a picture: the agent sees it.
    await customer.locator("#parley-attach").set_input_files(
        files=[{"name": "parcel.png", "mimeType": "image/png", "buffer": picture()}])
    image = chat.get_by_role("img", name=re.compile("parcel.png"))
    await expect(image).to_be_visible()
    await eventually(lambda: image.evaluate("img => img.naturalWidth"), until=lambda width: width > 0,
                     what="the picture loaded at the desk")
    await pages.screenshot(desk, "agent-conversation")
    await pages.screenshot(customer, "customer-conversation")

    # The agent wraps up and completes: the customer's widget says the chat has ended.
    await desk.get_by_role("button", name="Wrap up").click()
    await expect(customer.get_by_text("This chat has ended.")).to_be_visible()
    await desk.get_by_role("button", name="Complete").click()
    await expect(desk.get_by_role("region", name="Your tasks")).to_contain_text("No active tasks.")
    await pages.screenshot(customer, "customer-chat-ended")
    await pages.screenshot(desk, "agent-done")
