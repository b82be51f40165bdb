"""The desk's other actions in Chromium: invite a second agent, transfer to another agent, start an outbound
SMS or WhatsApp conversation, and a short-lived token refreshed without the agent noticing."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import Pages
from tests.browser.desk_support import choose_activity, contact_center, customer_chat, open_desk, sign_in
from tests.flex.conftest import CARRIER_TOKEN, PARLEY_NUMBER
from tests.support.parley import RunningParley
from tests.support.provider import carrier_answer
from tests.support.receiver import Receiver
from tests.support.waiting import eventually


def offers(page: Page) -> Locator:
    return page.get_by_role("region", name="Offers").get_by_role("listitem")


def tasks(page: Page) -> Locator:
    return page.get_by_role("region", name="Your tasks")


async def test_an_agent_invites_a_second_agent_who_sees_the_history(pages: Pages, web: RunningParley) -> None:
    async with contact_center(web) as center:
        alice = await open_desk(pages, center.agents["alice"])
        customer = await customer_chat(center, first_message="I need a specialist")
        await offers(alice).get_by_role("button", name="Accept").click()
        await expect(alice.get_by_role("log", name="Messages")).to_contain_text("I need a specialist")

        bob = await open_desk(pages, center.agents["bob"])
        await alice.get_by_text("Transfer or invite").click()
        # Bob by name, with his availability (the roster the desk reads with Alice's own token).
        await alice.get_by_label("Invite a second agent").select_option(label="Bob (available)")
        await alice.get_by_role("button", name="Invite").click()
        await expect(alice.get_by_role("status").filter(has_text="Invitation sent to Bob.")).to_be_visible()

        await offers(bob).get_by_role("button", name="Accept").click()
        bobs_chat = bob.get_by_role("log", name="Messages")
        await expect(bobs_chat).to_contain_text("I need a specialist")  # the history, from before he joined
        await alice.get_by_label("Message", exact=True).fill("Bob joins us, he knows this best")
        await alice.get_by_role("button", name="Send").click()
        await expect(bobs_chat).to_contain_text("Bob joins us, he knows this best")
        await pages.screenshot(bob, "invited-agent")
        # Both agents hold a task of the same conversation.
        assert len(await center.reservations_of("alice", "accepted")) == 1
        assert len(await center.reservations_of("bob", "accepted")) == 1
        await customer.close()


async def test_a_cold_transfer_hands_the_chat_to_another_agent(pages: Pages, web: RunningParley) -> None:
    async with contact_center(web) as center:
        alice = await open_desk(pages, center.agents["alice"])
        customer = await customer_chat(center, name="Grace Hopper", identity="guest-grace",
                                       first_message="Please pass me to billing")
        await offers(alice).get_by_role("button", name="Accept").click()
        await expect(tasks(alice)).to_contain_text("Grace Hopper")

        bob = await open_desk(pages, center.agents["bob"], phone=True)
        await alice.get_by_text("Transfer or invite").click()
        await alice.get_by_label("Transfer to").select_option(label="Bob (available)")  # by name, not a worker SID
        await pages.screenshot(alice, "transfer-to-an-agent")
        await alice.get_by_label("Transfer type").select_option("cold")
        await alice.get_by_role("button", name="Transfer", exact=True).click()
        await expect(alice.get_by_role("status").filter(has_text="Transfer requested")).to_be_visible()

        await offers(bob).get_by_role("button", name="Accept").click()
        await expect(bob.get_by_role("log", name="Messages")).to_contain_text("Please pass me to billing")
        # Cold: Alice is out once Bob has it.
        await expect(tasks(alice)).to_contain_text("No active tasks.")
        await pages.screenshot(bob, "transferred-to-phone")
        await customer.close()


# For WhatsApp the agent types the customer's `whatsapp:` address and the business number without it.
@pytest.mark.parametrize("channel, prefix, typed_to", [("SMS", "", "+15559990000"),
                                                       ("WhatsApp", "whatsapp:", "whatsapp:+15559990000")],
                         ids=["sms", "whatsapp"])
async def test_an_agent_starts_an_outbound_conversation(pages: Pages, web: RunningParley, channel: str,
                                                        prefix: str, typed_to: str) -> None:
    carrier = Receiver(responder=carrier_answer)
    await carrier.start()
    try:
        async with contact_center(web) as center:
            await center.post("/parley/v1/Providers", {
                "Type": "twilio", "FriendlyName": "Fake carrier", "Addresses": [prefix + PARLEY_NUMBER],
                "ApiBaseUrl": carrier.url, "Credentials.AccountSid": "AC" + "1" * 32,
                "Credentials.AuthToken": CARRIER_TOKEN}, status=201)
            page = await pages.open("/desk/")
            await sign_in(page, center.agents["alice"])
            await page.get_by_text("Start a conversation").click()
            await page.get_by_label("Channel").select_option(label=channel)
            await page.get_by_label("Customer's number").fill(typed_to)
            await page.get_by_label("From (the business number)").fill(PARLEY_NUMBER)
            await page.get_by_label("First message").fill("Hello from Parley, your parcel is ready")
            await page.get_by_role("button", name="Start").click()

            await expect(tasks(page)).to_contain_text(f"{prefix}+15559990000 · {channel}")
            await expect(page.get_by_role("log", name="Messages")).to_contain_text(
                "Hello from Parley, your parcel is ready")
            (sent,) = await carrier.wait_for(1)
            assert sent.field("To") == f"{prefix}+15559990000" and sent.field("From") == prefix + PARLEY_NUMBER
            assert sent.field("Body") == "Hello from Parley, your parcel is ready"
            await pages.screenshot(page, f"outbound-{channel}")
    finally:
        await carrier.stop()


async def test_a_short_lived_token_is_refreshed_and_the_desk_stays_connected(pages: Pages, web: RunningParley) -> None:
    async with contact_center(web) as center:
        alice = center.agents["alice"]
        issued = await center.post("/parley/v1/AccessTokens", {
            "Identity": "alice", "WorkspaceSid": center.workspace_sid, "WorkerSid": alice.worker_sid, "Ttl": "60"},
            status=201)
        page = await pages.open("/webchat/")  # same origin, another page: put the session in place first
        await page.evaluate("token => sessionStorage.setItem('parley.accessToken', JSON.stringify(token))", issued)
        await page.goto("/desk/")
        await expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()

        def stored() -> str:
            return str(issued["token"])

        async def current() -> dict[str, str]:
            return dict(json.loads(await page.evaluate("sessionStorage.getItem('parley.accessToken')")))

        fresh = await eventually(current, until=lambda token: token["token"] != stored(), timeout=20,
                                 what="the desk to refresh its token")
        assert fresh["identity"] == "alice" and fresh["date_expires"] >= issued["date_expires"]
        # The refreshed token works: the agent changes activity with it.
        await choose_activity(page, "Available")
        assert (await center.get(f"{center.ws}/Workers/{alice.worker_sid}"))["activity_name"] == "Available"


async def test_a_rejected_offer_leaves_the_screen_and_the_task_waits_for_someone_else(
    pages: Pages, web: RunningParley,
) -> None:
    async with contact_center(web) as center:
        page = await open_desk(pages, center.agents["alice"])
        customer = await customer_chat(center, name="Mary Jackson", identity="guest-mj")
        await offers(page).get_by_role("button", name="Reject").click()
        await expect(offers(page)).to_have_count(0)
        assert [r["reservation_status"] for r in await center.reservations_of("alice", "rejected")] == ["rejected"]
        assert (await center.task(customer.task_sid))["assignment_status"] in ("pending", "reserved")
        await customer.close()
