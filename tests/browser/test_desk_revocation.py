"""A deleted agent's desk is signed out: its socket is closed (4001), its token no longer renews, the desk asks
for a sign-in again (docs/auth.md, Revocation)."""

from playwright.async_api import expect

from tests.browser.conftest import Pages
from tests.browser.desk_support import contact_center, sign_in
from tests.support.parley import RunningParley


async def test_a_deleted_agents_desk_returns_to_the_sign_in(pages: Pages, web: RunningParley) -> None:
    async with contact_center(web) as center:
        page = await pages.open("/desk/")
        await sign_in(page, center.agents["alice"])
        listed = await center.get("/parley/v1/Agents", PageSize=50)
        (alice,) = [agent for agent in listed["agents"] if agent["identity"] == "alice"]
        # The desk's renewal of its revoked token is refused (401), as it should be.
        pages.expect_console_error(r"status of 401\b")
        deleted = await center.http.delete(f"/parley/v1/Agents/{alice['sid']}")
        assert deleted.status_code == 204, deleted.text

        await expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=10_000)
        assert await page.evaluate("sessionStorage.getItem('parley.accessToken')") is None
