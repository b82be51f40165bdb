"""What the web-chat browser tests stand on: the customer opening the widget and starting a chat as Ana Lima."""

from __future__ import annotations

from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import Pages
from tests.support.web_chat_center import WebChatCenter


def widget_log(page: Page) -> Locator:
    return page.get_by_role("log", name="Messages")


async def open_chat(pages: Pages, center: WebChatCenter, *, phone: bool = False, url: str | None = None,
                    screenshot: str = "pre-engagement") -> Page:
    """Ana fills the pre-engagement form and asks where her order is; the reply box then has the focus."""
    page = await pages.open(url or f"/webchat/?address={center.address_sid}", phone=phone)
    await page.get_by_role("button", name="Chat with us", exact=True).click()
    dialog = page.get_by_role("dialog", name="Chat with us")
    await dialog.get_by_label("Your name").fill("Ana Lima")
    await dialog.get_by_label("Email").fill("ana@example.com")
    await dialog.get_by_label("How can we help?").fill("Where is my order?")
    await pages.screenshot(page, screenshot)
    await dialog.get_by_role("button", name="Start chat").click()
    await expect(widget_log(page).get_by_text("Where is my order?")).to_be_visible()
    await expect(page.get_by_role("textbox", name="Message")).to_be_focused()
    return page
