"""The agent desktop in Chromium: offers with a countdown, the conversation both ways, wrap-up, time-outs,
offers withdrawn (another agent accepted first, the task was canceled), reloads.

The customer is a web-chat guest driven over HTTP and the realtime WebSocket (tests/browser/desk_support.py);
test_desk_journey.py has the customer in the widget instead.
"""

from __future__ import annotations

import json
import re

from playwright.async_api import Locator, Page, WebSocketRoute, expect

from tests.browser.conftest import Pages
from tests.browser.desk_support import Center, Customer, choose_activity, contact_center, customer_chat, open_desk, sign_in
from tests.support.parley import RunningParley
from tests.support.waiting import eventually


def offer_of(page: Page, customer: str) -> Locator:
    return page.get_by_role("region", name="Offers").get_by_role("listitem").filter(has_text=customer)


async def countdown(page: Page, customer: str) -> int:
    text = await offer_of(page, customer).get_by_test_id("countdown").inner_text()
    return int(text)


async def test_an_agent_accepts_an_offer_talks_with_the_customer_and_completes(pages: Pages, web: RunningParley) -> None:
    async with contact_center(web) as center:
        page = await open_desk(pages, center.agents["alice"])

        customer = await customer_chat(center, first_message="Hello, my order has not arrived")
        offer = offer_of(page, "Ada Lovelace")
        await expect(offer).to_be_visible()
        await expect(offer).to_contain_text("Web chat")
        first = await countdown(page, "Ada Lovelace")
        assert 0 < first <= 120
        await eventually(lambda: countdown(page, "Ada Lovelace"), until=lambda left: left < first,
                         what="the countdown to tick")
        await pages.screenshot(page, "offer-with-countdown")

        await offer.get_by_role("button", name="Accept").click()
        await expect(offer).to_have_count(0)
        chat = page.get_by_role("log", name="Messages")
        await expect(chat).to_contain_text("Hello, my order has not arrived")
        await expect(page.get_by_role("region", name="Your tasks")).to_contain_text("Ada Lovelace")
        assert (await center.task(customer.task_sid))["assignment_status"] == "assigned"

        # The customer types: the agent sees it; the agent types and replies: the customer sees both.
        await customer.sees("participant.added", joined="alice")  # from here the agent's socket is in the chat
        await customer.socket.send(json.dumps({"type": "typing", "conversation_sid": customer.conversation_sid}))
        await expect(page.get_by_text("Ada Lovelace is typing…")).to_be_visible()
        composer = page.get_by_label("Message", exact=True)
        await composer.fill("Hi Ada, I am looking into it")
        await composer.press("Space")
        await customer.sees("typing", identity="alice")
        await page.get_by_role("button", name="Send").click()
        reply = await customer.sees("message.added", author="alice")
        assert reply["resource"]["body"] == "Hi Ada, I am looking into it"
        mine = chat.get_by_role("listitem").filter(has_text="Hi Ada, I am looking into it")
        await expect(mine).to_contain_text("Sent")

        # The customer reads it: the agent sees the read receipt.
        await customer.read_up_to(reply["index"])
        await expect(mine).to_contain_text("Read")
        # The agent's own read horizon reached the customer (the desk marks what it shows as read).
        await customer.sees("read_horizon", identity="alice")

        # The customer sends a picture: the agent sees it.
        await customer.send_picture("receipt.png")
        picture = chat.get_by_role("img", name=re.compile("receipt.png"))
        await expect(picture).to_be_visible()
        await eventually(lambda: picture.evaluate("img => img.naturalWidth"), until=lambda width: width > 0,
                         what="the picture loaded")
        await pages.screenshot(page, "conversation")

        # The agent sends a PDF (uploaded to MCS with the agent's token): the customer gets it as media.
        await page.get_by_label("Attach a file").set_input_files(files=[{
            "name": "invoice.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n"}])
        await composer.fill("Here is your invoice")
        await page.get_by_role("button", name="Send").click()
        sent = await customer.sees("message.added", author="alice", body="Here is your invoice")
        assert [m["content_type"] for m in sent["resource"]["media"]] == ["application/pdf"]
        await expect(chat.get_by_role("link", name=re.compile("invoice.pdf"))).to_be_visible()

        # Wrap up, then complete: the task is done and leaves the list.
        await page.get_by_role("button", name="Wrap up").click()
        await expect(page.get_by_role("region", name="Your tasks")).to_contain_text("wrapping up")
        await eventually(lambda: center.task(customer.task_sid), until=lambda t: t["assignment_status"] == "wrapping",
                         what="the task wrapping up")
        # As the only agent, wrapping up ends the chat: the conversation closes for the customer too.
        await eventually(lambda: center.get(f"/conversations/v1/Conversations/{customer.conversation_sid}"),
                         until=lambda c: c["state"] == "closed", what="the conversation closed")
        await expect(page.get_by_text("This conversation is closed.")).to_be_visible()
        await pages.screenshot(page, "wrapping-up")
        await page.get_by_role("button", name="Complete").click()
        await expect(page.get_by_role("region", name="Your tasks")).to_contain_text("No active tasks.")
        await eventually(lambda: center.task(customer.task_sid), until=lambda t: t["assignment_status"] == "completed",
                         what="the task completed")
        await customer.close()


async def test_an_offer_left_to_time_out_disappears_and_goes_to_another_agent(pages: Pages, web: RunningParley) -> None:
    async with contact_center(web, reservation_timeout=6) as center:
        alice = await open_desk(pages, center.agents["alice"])
        bob = await pages.open("/desk/", phone=True)  # Bob works from his phone
        await sign_in(bob, center.agents["bob"])

        customer = await customer_chat(center, name="Grace Hopper", identity="guest-grace")
        await expect(offer_of(alice, "Grace Hopper")).to_be_visible()
        await pages.screenshot(alice, "offer")
        await choose_activity(bob, "Available")

        # Alice lets it lapse: it disappears from her screen, she is moved to the timeout activity,
        # and the task is offered to Bob.
        await expect(offer_of(alice, "Grace Hopper")).to_have_count(0, timeout=15_000)
        await expect(alice.get_by_role("status").filter(has_text="The offer from Grace Hopper (Web chat) timed out."))\
            .to_be_visible()
        await expect(alice.get_by_label("Activity")).to_have_value(center.activities["Offline"])
        bobs_offer = offer_of(bob, "Grace Hopper")
        await expect(bobs_offer).to_be_visible()
        await pages.screenshot(bob, "offer-on-phone")
        await bobs_offer.get_by_role("button", name="Accept").click()  # before his own offer lapses
        await expect(bob.get_by_role("region", name="Your tasks")).to_contain_text("Grace Hopper")
        assert await bob.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await pages.screenshot(alice, "offer-gone")
        assert [r["reservation_status"] for r in await center.reservations_of("alice", "timeout")] == ["timeout"]
        assert (await center.task(customer.task_sid))["assignment_status"] == "assigned"
        await customer.close()


async def the_offer_is_withdrawn(page: Page, center: Center, customer: str, status: str) -> None:
    """The offer leaves Alice's desk, which says so, and her reservation ended as `status`."""
    await expect(offer_of(page, customer)).to_have_count(0)
    await expect(page.get_by_role("status").filter(has_text=f"The offer from {customer} (Web chat) was withdrawn."))\
        .to_be_visible()
    assert [r["reservation_status"] for r in await center.reservations_of("alice", status)] == [status]


async def test_an_offer_another_agent_accepts_first_is_withdrawn(pages: Pages, web: RunningParley) -> None:
    async with contact_center(web) as center:
        # The queue offers each task to two agents at once; the first to accept wins.
        await center.post(f"{center.ws}/TaskQueues/{center.queue_sid}", {"MaxReservedWorkers": "2"})
        alice = await open_desk(pages, center.agents["alice"])
        bob = await open_desk(pages, center.agents["bob"])
        customer = await customer_chat(center, name="Grace Hopper", identity="guest-grace")
        await expect(offer_of(alice, "Grace Hopper")).to_be_visible()
        await pages.screenshot(alice, "offered-to-two")
        await offer_of(bob, "Grace Hopper").get_by_role("button", name="Accept").click()

        await the_offer_is_withdrawn(alice, center, "Grace Hopper", "rescinded")
        await expect(alice.get_by_role("region", name="Your tasks")).to_contain_text("No active tasks.")
        await expect(bob.get_by_role("region", name="Your tasks")).to_contain_text("Grace Hopper")
        await pages.screenshot(alice, "rescinded")
        await customer.close()


async def test_accepting_an_offer_just_taken_by_another_agent_says_so(pages: Pages, web: RunningParley) -> None:
    """The race: Alice clicks Accept before the news that Bob took it reaches her (the test holds it back)."""
    async with contact_center(web) as center:
        await center.post(f"{center.ws}/TaskQueues/{center.queue_sid}", {"MaxReservedWorkers": "2"})
        alice = await pages.open("/desk/")

        async def without_rescinds(socket: WebSocketRoute) -> None:
            server = socket.connect_to_server()
            server.on_message(lambda message: None if "reservation.rescinded" in str(message) else socket.send(message))

        await alice.route_web_socket(re.compile(r"/ingress/ws"), without_rescinds)
        await sign_in(alice, center.agents["alice"])
        await choose_activity(alice, "Available")
        bob = await open_desk(pages, center.agents["bob"])
        customer = await customer_chat(center, name="Grace Hopper", identity="guest-grace")
        await expect(offer_of(alice, "Grace Hopper")).to_be_visible()
        await offer_of(bob, "Grace Hopper").get_by_role("button", name="Accept").click()
        await eventually(lambda: center.reservations_of("alice", "rescinded"), until=lambda found: len(found) == 1,
                         what="Alice's reservation rescinded")

        # Chromium itself logs the refused request; the desk logs nothing.
        pages.expect_console_error(r"Failed to load resource: the server responded with a status of 400")
        await offer_of(alice, "Grace Hopper").get_by_role("button", name="Accept").click()
        await expect(offer_of(alice, "Grace Hopper")).to_have_count(0)
        await expect(alice.get_by_role("status").filter(
            has_text="The offer from Grace Hopper (Web chat) is no longer available.")).to_be_visible()
        await pages.screenshot(alice, "too-late")
        await expect(alice.get_by_role("region", name="Your tasks")).to_contain_text("No active tasks.")
        await customer.close()


async def test_an_offer_whose_task_is_canceled_is_withdrawn(pages: Pages, web: RunningParley) -> None:
    async with contact_center(web) as center:
        page = await open_desk(pages, center.agents["alice"])
        customer = await customer_chat(center, name="Mary Jackson", identity="guest-mj")
        await expect(offer_of(page, "Mary Jackson")).to_be_visible()
        await center.post(f"{center.ws}/Tasks/{customer.task_sid}", {"AssignmentStatus": "canceled",
                                                                     "Reason": "the customer left"})

        await the_offer_is_withdrawn(page, center, "Mary Jackson", "canceled")
        await pages.screenshot(page, "canceled")
        await customer.close()


async def talking_with_katherine(pages: Pages, center: Center, first_message: str) -> tuple[Page, Customer, Locator]:
    """Alice, who may take two chats at once (so a second offer can wait), accepted Katherine's; her desk and chat."""
    await center.post(f"{center.ws}/Workers/{center.agents['alice'].worker_sid}/Channels/chat", {"Capacity": "2"})
    page = await open_desk(pages, center.agents["alice"])
    customer = await customer_chat(center, name="Katherine Johnson", identity="guest-kj", first_message=first_message)
    await offer_of(page, "Katherine Johnson").get_by_role("button", name="Accept").click()
    chat = page.get_by_role("log", name="Messages")
    await expect(chat).to_contain_text(first_message)
    return page, customer, chat


async def test_the_desk_reloaded_mid_conversation_comes_back_whole(pages: Pages, web: RunningParley) -> None:
    async with contact_center(web) as center:
        page, customer, chat = await talking_with_katherine(pages, center, "Can you check my booking?")
        await page.get_by_label("Message", exact=True).fill("Of course, one moment")
        await page.get_by_role("button", name="Send").click()
        await customer.sees("message.added", author="alice")
        # A second customer's offer is waiting when the page reloads.
        second = await customer_chat(center, name="Dorothy Vaughan", identity="guest-dv")
        await expect(offer_of(page, "Dorothy Vaughan")).to_be_visible()

        await page.reload()
        await expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
        await expect(page.get_by_label("Activity")).to_have_value(center.activities["Available"])
        await expect(page.get_by_role("region", name="Your tasks")).to_contain_text("Katherine Johnson")
        await expect(chat).to_contain_text("Can you check my booking?")
        await expect(chat).to_contain_text("Of course, one moment")
        await expect(offer_of(page, "Dorothy Vaughan")).to_be_visible()
        assert 0 < await countdown(page, "Dorothy Vaughan") <= 120  # the deadline survived the reload
        # A second browser, where nothing of the first is stored, shows it too: the deadline is the server's.
        elsewhere = await pages.open("/desk/")
        await sign_in(elsewhere, center.agents["alice"])
        assert 0 < await countdown(elsewhere, "Dorothy Vaughan") <= 120
        # Live again: what the customer writes now arrives.
        await customer.write("Booking reference PX-42")
        await expect(chat).to_contain_text("Booking reference PX-42")
        await pages.screenshot(page, "after-reload")
        await customer.close()
        await second.close()


async def test_the_desk_fits_a_phone_and_works_by_keyboard(pages: Pages, web: RunningParley) -> None:
    async with contact_center(web) as center:
        page = await open_desk(pages, center.agents["alice"], phone=True)
        customer = await customer_chat(center, name="Mary Jackson", identity="guest-mj", first_message="Hi there")
        accept = offer_of(page, "Mary Jackson").get_by_role("button", name="Accept")
        await expect(accept).to_be_visible()
        await accept.focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("log", name="Messages")).to_contain_text("Hi there")
        composer = page.get_by_label("Message", exact=True)
        await expect(composer).to_be_focused()  # focus follows the work: from Accept to the reply box
        await page.keyboard.type("Typed on a phone")
        await page.keyboard.press("Enter")  # Enter sends
        await customer.sees("message.added", author="alice", body="Typed on a phone")
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await pages.screenshot(page, "phone")
        await customer.close()


async def test_a_dropped_socket_reconnects_and_resyncs_what_it_missed(pages: Pages, web: RunningParley) -> None:
    async with contact_center(web) as center:
        page, customer, chat = await talking_with_katherine(pages, center, "Is my booking confirmed?")
        await customer.sees("participant.added", joined="alice")

        # From now on the desk's socket goes through the test, which can cut it and keep it down.
        connections: list[WebSocketRoute] = []
        down = False

        async def through(socket: WebSocketRoute) -> None:
            if down:
                await socket.close(code=1011)
                return
            socket.connect_to_server()
            connections.append(socket)

        await page.route_web_socket(re.compile(r"/ingress/ws"), through)
        await page.reload()
        await expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
        await expect(page.get_by_role("main")).to_have_attribute("aria-busy", "false")  # the resync is done
        assert connections

        down = True
        await connections[-1].close(code=1011)
        await expect(page.get_by_role("status").filter(has_text="Offline, reconnecting…")).to_be_visible()
        # While the agent is away: a message in the held conversation, and a new offer.
        await customer.write("Reference KJ-7, please check")
        second = await customer_chat(center, name="Dorothy Vaughan", identity="guest-dv")
        await eventually(lambda: center.reservations_of("alice", "pending"), until=lambda found: len(found) == 1,
                         what="the second offer made while the desk was offline")
        await pages.screenshot(page, "offline")
        assert await chat.get_by_text("Reference KJ-7, please check").count() == 0

        down = False  # the desk's next attempt gets through, and it resyncs
        await expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible(timeout=20_000)
        await expect(chat).to_contain_text("Reference KJ-7, please check")
        await expect(offer_of(page, "Dorothy Vaughan")).to_be_visible()
        await pages.screenshot(page, "resynced")
        await customer.close()
        await second.close()
