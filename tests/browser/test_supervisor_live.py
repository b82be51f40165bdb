"""The supervisor view in Chromium: queues and agents live as web chats arrive and agents accept them (over
REST here), and a supervisor opening an agent's conversation read-only, then joining it."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import Pages
from tests.browser.desk_support import fill_sign_in
from tests.support.parley import RunningParley
from tests.support.waiting import eventually
from tests.support.web_chat_center import WebChatCenter, set_activity

LIVE_TIMEOUT_MS = 10_000


# Live updates cross the broker, the database and the socket: on a loaded machine 5 s (Playwright's default) is short.
expect.set_options(timeout=10_000)

async def customer_writes(web: RunningParley, account: httpx.AsyncClient, center: WebChatCenter, name: str,
                          body: str) -> str:
    """A web chat, as the widget starts it, and the customer's first message, which routes it to the queue."""
    async with httpx.AsyncClient(base_url=web.base_url) as browser:
        started = (await browser.post("/flex-api/v2/WebChats", data={
            "AddressSid": center.address_sid, "CustomerFriendlyName": name})).json()
    posted = await account.post(f"/conversations/v1/Conversations/{started['conversation_sid']}/Messages",
                                data={"Author": started["identity"], "Body": body})
    assert posted.status_code == 201, posted.text
    return str(started["conversation_sid"])


async def accept_offer(account: httpx.AsyncClient, center: WebChatCenter, agent: str) -> dict[str, Any]:
    async def pending() -> list[dict[str, Any]]:
        found = await account.get(f"{center.ws}/Workers/{center.agents[agent].worker_sid}/Reservations",
                                  params={"ReservationStatus": "pending"})
        return list(found.json()["reservations"])

    reservation = (await eventually(pending, what=f"{agent}'s offer"))[0]
    accepted = await account.post(f"{center.ws}/Tasks/{reservation['task_sid']}/Reservations/{reservation['sid']}",
                                  data={"ReservationStatus": "accepted"})
    assert accepted.status_code == 200, accepted.text
    return dict(accepted.json())


def queue_row(page: Page) -> Locator:
    table = page.get_by_role("table", name="Queues: waiting tasks and agents, live")
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Support"))


async def expect_queue(page: Page, *, waiting: int, available: int, busy: int) -> None:
    cells = queue_row(page).get_by_role("cell")
    await expect(cells.nth(0)).to_have_text(str(waiting), timeout=LIVE_TIMEOUT_MS)
    await expect(cells.nth(2)).to_have_text(str(available), timeout=LIVE_TIMEOUT_MS)
    await expect(cells.nth(3)).to_have_text(str(busy), timeout=LIVE_TIMEOUT_MS)


async def sign_in(pages: Pages, center: WebChatCenter, name: str = "sam", *, phone: bool = False) -> Page:
    """Through the sign-in link that names the account (`?account=AC…`): only email and password to type."""
    page = await pages.open(f"/supervisor/?account={center.agents[name].account_sid}", phone=phone)
    await expect(page.get_by_label("Account SID")).to_have_value(center.agents[name].account_sid)
    await page.get_by_label("Email").fill(center.agents[name].email)
    await page.get_by_label("Password").fill(center.agents[name].password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Supervisor", exact=True)).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    return page


async def test_the_waiting_count_rises_and_falls_live_and_the_supervisor_joins_a_conversation(
    pages: Pages, web: RunningParley, center: WebChatCenter, account: httpx.AsyncClient
) -> None:
    page = await sign_in(pages, center)
    table = page.get_by_role("table", name="Queues: waiting tasks and agents, live")
    await expect(table.get_by_role("columnheader")).to_have_text(
        ["Queue", "Waiting", "Longest wait", "Available agents", "Busy agents"])
    await expect_queue(page, waiting=0, available=0, busy=0)
    agents = page.get_by_role("table", name="Agents: activity and current tasks, live")
    await expect(agents.get_by_role("row").filter(has_text="Alice")).to_contain_text("Offline")

    # Two customers write while nobody is available: both wait.
    first = await customer_writes(web, account, center, "Ana Lima", "Where is my order?")
    await expect_queue(page, waiting=1, available=0, busy=0)
    await customer_writes(web, account, center, "Bruno Reis", "I need an invoice")
    await expect_queue(page, waiting=2, available=0, busy=0)
    await expect(queue_row(page).get_by_role("cell").nth(1)).not_to_have_text("—")
    await pages.screenshot(page, "two-waiting")

    # Alice comes in and accepts the first offer; Bob the second: the queue empties.
    await set_activity(account, center, "alice", "Available")
    await accept_offer(account, center, "alice")
    # (Available counts agents whose activity is available, as TaskRouter does: busy ones too.)
    await expect_queue(page, waiting=1, available=1, busy=1)
    alice_row = agents.get_by_role("row").filter(has_text="Alice")
    await expect(alice_row).to_contain_text("Ana Lima (web)", timeout=LIVE_TIMEOUT_MS)
    await set_activity(account, center, "bob", "Available")
    await accept_offer(account, center, "bob")
    await expect_queue(page, waiting=0, available=2, busy=2)
    await expect(agents.get_by_role("row").filter(has_text="Bob")).to_contain_text("Bruno Reis (web)",
                                                                                   timeout=LIVE_TIMEOUT_MS)
    await pages.screenshot(page, "all-accepted")

    # The supervisor opens Alice's conversation: read-only, refreshed as it goes on.
    await alice_row.get_by_role("button", name="Open the conversation of Alice with Ana Lima").click()
    view = page.get_by_role("region", name="Alice with Ana Lima")
    transcript = view.get_by_role("log", name="Conversation messages")
    await expect(transcript).to_contain_text("Ana Lima Where is my order?")
    await expect(view).to_contain_text("Read-only")
    await account.post(f"/conversations/v1/Conversations/{first}/Messages",
                       data={"Author": "alice", "Body": "Checking it now."})
    await expect(transcript).to_contain_text("Checking it now.", timeout=LIVE_TIMEOUT_MS)

    # Joining makes the supervisor a participant who can write.
    await view.get_by_role("button", name="Join conversation").click()
    await expect(view).to_contain_text("You are a participant")
    await expect(view).to_contain_text(re.compile(r"Participants: (?=[^.]*Ana Lima)(?=[^.]*alice)(?=[^.]*sam)"))
    participants = (await account.get(f"/conversations/v1/Conversations/{first}/Participants")).json()
    assert "sam" in {p["identity"] for p in participants["participants"]}
    await view.get_by_label("Message as sam").fill("Supervisor here, all good.")
    await view.get_by_role("button", name="Send").click()
    await expect(transcript).to_contain_text("Supervisor here, all good.")
    messages = (await account.get(f"/conversations/v1/Conversations/{first}/Messages")).json()["messages"]
    assert ("sam", "Supervisor here, all good.") in {(m["author"], m["body"]) for m in messages}
    await pages.screenshot(page, "joined")


async def test_a_task_nobody_takes_stays_listed_with_why_it_waits(
    pages: Pages, web: RunningParley, center: WebChatCenter, account: httpx.AsyncClient
) -> None:
    page = await sign_in(pages, center)
    waiting = page.get_by_role("table", name="Tasks waiting longest, and why they wait")
    await expect(waiting.get_by_role("columnheader")).to_have_text(
        ["Customer", "Queue", "Waiting", "Why it waits", "Declined"])
    await customer_writes(web, account, center, "Carla Dias", "Can someone help?")
    row = waiting.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Carla Dias (web)"))
    await expect(row.get_by_role("cell")).to_have_text(
        ["Support", re.compile(r"\d"), "No agent available in Support", "0"], timeout=LIVE_TIMEOUT_MS)

    # Alice comes in and is offered it; she declines and steps away: the task waits on, counted as declined.
    await set_activity(account, center, "alice", "Available")
    await expect(row.get_by_role("cell").nth(2)).to_have_text("Offered to Alice", timeout=LIVE_TIMEOUT_MS)
    (offer,) = (await account.get(f"{center.ws}/Workers/{center.agents['alice'].worker_sid}/Reservations",
                                  params={"ReservationStatus": "pending"})).json()["reservations"]
    declined = await account.post(f"{center.ws}/Tasks/{offer['task_sid']}/Reservations/{offer['sid']}", data={
        "ReservationStatus": "rejected", "WorkerActivitySid": center.activities["Unavailable"]})
    assert declined.status_code == 200, declined.text
    await expect(row.get_by_role("cell")).to_have_text(
        ["Support", re.compile(r"\d"), "No agent available in Support", "1"], timeout=LIVE_TIMEOUT_MS)
    await pages.screenshot(page, "declined-task-waiting")


async def test_an_agent_without_the_supervisor_role_sees_no_statistics(
    pages: Pages, center: WebChatCenter
) -> None:
    page = await pages.open("/supervisor/")
    await fill_sign_in(page, center.agents["alice"], center.agents["alice"].password)
    await expect(page.get_by_role("alert").filter(has_text="for supervisors")).to_be_visible()
    await expect(page.get_by_role("table")).to_have_count(0)


async def test_the_supervisor_view_fits_a_phone_and_works_by_keyboard(
    pages: Pages, web: RunningParley, center: WebChatCenter, account: httpx.AsyncClient
) -> None:
    await customer_writes(web, account, center, "Ana Lima", "Where is my order?")
    await set_activity(account, center, "alice", "Available")
    await accept_offer(account, center, "alice")
    page = await sign_in(pages, center, phone=True)
    await expect_queue(page, waiting=0, available=1, busy=1)
    assert await page.evaluate("document.documentElement.scrollWidth <= screen.width")
    opener = page.get_by_role("button", name="Open the conversation of Alice with Ana Lima")
    await opener.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Alice with Ana Lima")).to_be_focused()
    await expect(page.get_by_role("log", name="Conversation messages")).to_contain_text("Where is my order?")
    assert await page.evaluate("document.documentElement.scrollWidth <= screen.width")
    await pages.screenshot(page, "phone")
