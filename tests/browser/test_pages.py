"""The browser apps in Chromium: each loads cleanly, signs in, opens the widget by keyboard, fits a phone."""

from __future__ import annotations

from typing import Literal

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Pages
from tests.support.parley import RunningParley

# What shows that each app has rendered (its JavaScript ran), by path.
APPS: dict[str, tuple[Literal["heading", "button"], str]] = {
    "/desk/": ("heading", "Sign in to the agent desktop"),
    "/supervisor/": ("heading", "Sign in to the supervisor view"),
    "/webchat/": ("button", "Chat with us"),
}


async def rendered(page: Page, path: str) -> None:
    role, name = APPS[path]
    await expect(page.get_by_role(role, name=name, exact=True)).to_be_visible()


async def fits_width(page: Page) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("path", list(APPS))
async def test_each_app_loads_without_console_errors(pages: Pages, path: str) -> None:
    page = await pages.open(path)
    await rendered(page, path)
    await pages.screenshot(page, "loaded")


async def test_desk_sign_in_shows_and_announces_the_servers_error(pages: Pages, web: RunningParley) -> None:
    credentials = {"AccountSid": web.account.sid, "Email": "nobody@example.com", "Password": "not-the-password"}
    async with httpx.AsyncClient(base_url=web.base_url) as client:  # as the browser: no account credentials
        answer = await client.post("/parley/v1/AccessTokens", data=credentials)
    assert answer.status_code >= 400, answer.text
    # Chromium reports every 4xx answer to fetch() on the console; this one is the point of the test.
    pages.expect_console_error(rf"status of {answer.status_code}\b")

    page = await pages.open("/desk/")
    await page.get_by_label("Account SID").focus()
    await page.keyboard.type(credentials["AccountSid"])
    await page.keyboard.press("Tab")
    email = page.get_by_label("Email")
    await expect(email).to_be_focused()
    await page.keyboard.type(credentials["Email"])
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Password")).to_be_focused()
    await page.keyboard.type(credentials["Password"])
    await page.keyboard.press("Enter")

    alert = page.get_by_role("alert")
    await expect(alert).to_have_text(answer.json()["message"])
    await expect(email).to_be_focused()
    await expect(page.get_by_label("Password")).to_have_value("")
    await pages.screenshot(page, "sign-in-error")


async def test_widget_launcher_opens_the_pre_engagement_form_by_keyboard(pages: Pages) -> None:
    page = await pages.open("/webchat/")
    launcher = page.get_by_role("button", name="Chat with us", exact=True)
    await expect(launcher).to_be_visible()
    for _ in range(6):
        await page.keyboard.press("Tab")
        if await launcher.evaluate("node => node.getRootNode().activeElement === node"):
            break
    await expect(launcher).to_be_focused()
    await expect(launcher).to_have_attribute("aria-expanded", "false")

    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Chat with us")
    await expect(dialog).to_be_visible()
    await expect(launcher).to_have_attribute("aria-expanded", "true")
    await expect(dialog.get_by_role("button", name="Close chat")).to_be_visible()
    name, email, question = (dialog.get_by_label(label) for label in ("Your name", "Email", "How can we help?"))
    await expect(name).to_be_focused()
    await page.keyboard.type("Ana Lima")
    await page.keyboard.press("Tab")
    await expect(email).to_be_focused()
    await page.keyboard.type("ana@example.com")
    await page.keyboard.press("Tab")
    await expect(question).to_be_focused()
    await page.keyboard.type("Where is my order?")
    await page.keyboard.press("Tab")
    start = dialog.get_by_role("button", name="Start chat")
    await expect(start).to_be_focused()
    await pages.screenshot(page, "pre-engagement-form")

    # The demo page's placeholder address does not exist: Parley says so (a 404 Chromium logs).
    pages.expect_console_error(r"status of 404\b")
    await page.keyboard.press("Enter")
    await expect(dialog.get_by_role("alert")).to_contain_text("was not found")

    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(launcher).to_be_focused()
    await expect(launcher).to_have_attribute("aria-expanded", "false")


async def test_every_app_fits_a_phone_screen(pages: Pages) -> None:
    for path in APPS:
        page = await pages.open(path, phone=True)
        await rendered(page, path)
        assert await fits_width(page), f"{path} scrolls sideways at 390 px"
        await pages.screenshot(page, path.strip("/"))
    await page.get_by_role("button", name="Chat with us", exact=True).click()
    await expect(page.get_by_role("dialog", name="Chat with us")).to_be_visible()
    assert await fits_width(page), "the open web-chat widget scrolls sideways at 390 px"
    await pages.screenshot(page, "webchat-open")
