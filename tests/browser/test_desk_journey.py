"""Issue #9's whole journey in two browsers: a customer in the demo page's widget, an agent at the desk.

The customer fills the pre-engagement form and writes; the available agent sees the offer with a
countdown, accepts, sees the message, types and replies; the customer sees the typing and the reply;
the agent sees the customer's read receipt; the customer sends a picture and the agent sees it; the
agent wraps up and completes; the customer's widget says the chat has ended.
"""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import Pages
from tests.browser.desk_support import open_desk
from tests.browser.widget_support import open_chat, widget_log
from tests.support.parley import RunningParley
from tests.support.pictures import png
from tests.support.waiting import eventually
from tests.support.web_chat_center import WebChatCenter


async def test_a_customer_in_the_widget_and_an_agent_at_the_desk_end_to_end(
    pages: Pages, web: RunningParley, center: WebChatCenter
) -> None:
    alice = center.agents["alice"]
    desk = await open_desk(pages, alice, password=alice.password)  # type: ignore[arg-type]

    # The customer opens the demo page, fills the pre-engagement form and writes.
    customer = await open_chat(pages, center, screenshot="customer-pre-engagement")
    chat_log = widget_log(customer)

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
    await expect(chat_log.get_by_text("Hi Ana, let me look that up.")).to_be_visible()

    # The customer's widget marks the reply read: the agent sees the read receipt.
    reply = chat.get_by_role("listitem").filter(has_text="Hi Ana, let me look that up.")
    await expect(reply.get_by_text("Read")).to_be_visible()

    # The customer sends a picture: the agent sees it.
    await customer.locator("#parley-attach").set_input_files(
        files=[{"name": "parcel.png", "mimeType": "image/png", "buffer": png(120, 80, (46, 160, 67))}])
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
