"""Signing in names the account: two businesses on one Parley each have an alice@example.com, and the desk and
supervisor sign-in pages take the account from their link (`?account=AC…`) or its field."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from shared.sids import new_sid
from tests.browser.conftest import Pages
from tests.browser.desk_support import choose_activity
from tests.support.parley import RunningParley
from tests.support.web_chat_center import WebChatCenter, set_up_web_chat_center
from tests.webhooks.accounts import client_as, create_subaccount

OTHER_PASSWORD = "the other business's alice"


@pytest.fixture
async def other_account(web: RunningParley) -> tuple[str, str]:
    return await create_subaccount(web)


@pytest.fixture
async def elsewhere(web: RunningParley, other_account: tuple[str, str]) -> WebChatCenter:
    """A second account's contact center, whose agent alice has the same email as the first's, another password."""
    async with client_as(web, other_account) as http:
        center = await set_up_web_chat_center(http, agents=("alice",), supervisors=("sam",))
        changed = await http.post(f"/parley/v1/Agents/{center.agents['alice'].agent_sid}",
                                  data={"Password": OTHER_PASSWORD})
        assert changed.status_code == 200, changed.text
    center.agents["alice"].password = OTHER_PASSWORD
    return center


async def test_the_desk_link_names_the_account_and_signs_in_that_accounts_agent(
    pages: Pages, web: RunningParley, account: httpx.AsyncClient, center: WebChatCenter, elsewhere: WebChatCenter,
    other_account: tuple[str, str],
) -> None:
    theirs = elsewhere.agents["alice"]
    assert theirs.email == center.agents["alice"].email and theirs.account_sid != center.agents["alice"].account_sid

    page = await pages.open(f"/desk/?account={theirs.account_sid}")
    await expect(page.get_by_label("Account SID")).to_have_value(theirs.account_sid)
    await page.get_by_label("Email").fill(theirs.email)
    await page.get_by_label("Password").fill(OTHER_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    await choose_activity(page, "Available")
    await pages.screenshot(page, "signed-in-through-link")

    # The second account's worker became available; the first's alice, with the same email, did not.
    async with client_as(web, other_account) as other:
        their_worker = (await other.get(f"{elsewhere.ws}/Workers/{theirs.worker_sid}")).json()
    own_worker = (await account.get(f"{center.ws}/Workers/{center.agents['alice'].worker_sid}")).json()
    assert (their_worker["activity_name"], own_worker["activity_name"]) == ("Available", "Offline")

    # The other business's password in the first account, or an account that does not exist: the same refusal
    # as any wrong password.
    pages.expect_console_error(r"status of 401\b")
    for account_sid in (center.agents["alice"].account_sid, new_sid("AC")):
        refused = await pages.open(f"/desk/?account={account_sid}")
        await refused.get_by_label("Email").fill(theirs.email)
        await refused.get_by_label("Password").fill(OTHER_PASSWORD)
        await refused.get_by_role("button", name="Sign in").click()
        await expect(refused.get_by_role("alert")).to_have_text("Authenticate")
        await expect(refused.get_by_label("Account SID")).to_have_value(account_sid)


async def test_the_supervisor_view_signs_in_with_the_account_typed_in_its_field(
    pages: Pages, elsewhere: WebChatCenter
) -> None:
    sam = elsewhere.agents["sam"]
    page = await pages.open("/supervisor/")
    account_field = page.get_by_label("Account SID")
    await expect(account_field).to_have_value("")
    await account_field.fill(sam.account_sid)
    await page.get_by_label("Email").fill(sam.email)
    await page.get_by_label("Password").fill(sam.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Supervisor", exact=True)).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
