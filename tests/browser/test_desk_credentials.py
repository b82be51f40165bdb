"""The account's credentials never reach the browser: the desk works with the agent's access token alone.

Everything the desk's browser receives in a whole session (sign-in, an offer, accepting it, messages both
ways) is recorded: every HTTP response body, every WebSocket frame, the claims of every JWT in them, and
what the page keeps (localStorage, sessionStorage, cookies). The account's auth token, the secret of the
Parley-managed key that signs agents' tokens, and the secret of a key the business made must appear nowhere.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from dataclasses import dataclass, field

from playwright.async_api import Page, Response, WebSocket, expect

from shared.auth.keys import managed_key
from shared.crypto import box_of
from shared.db import create_pool
from tests.browser.conftest import Pages
from tests.browser.desk_support import choose_activity, contact_center, customer_chat, sign_in
from tests.support.parley import RunningParley

JWT = re.compile(r"eyJ[\w-]+\.(eyJ[\w-]+)\.[\w-]+")


@dataclass
class Received:
    """What one page's browser got from the network, and the headers of the requests it sent."""

    bodies: list[str] = field(default_factory=list)
    request_headers: list[dict[str, str]] = field(default_factory=list)
    _reading: list[asyncio.Future[None]] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("response", lambda response: self._reading.append(asyncio.ensure_future(self._read(response))))
        page.on("websocket", self._on_websocket)

    async def _read(self, response: Response) -> None:
        self.request_headers.append(await response.request.all_headers())
        if 300 <= response.status < 400:  # redirects have no body to read
            return
        self.bodies.append((await response.body()).decode("utf-8", errors="replace"))

    def _on_websocket(self, socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: self.bodies.append(
            payload if isinstance(payload, str) else payload.decode("utf-8", errors="replace")))

    async def text(self) -> str:
        """All of it as one text, with the decoded claims of the JWTs it carries."""
        await asyncio.gather(*self._reading)
        everything = "\n".join(self.bodies)
        claims = [base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode() for part in JWT.findall(everything)]
        return "\n".join([everything, *claims])


async def stored(page: Page) -> str:
    kept = await page.evaluate("JSON.stringify({local: {...localStorage}, session: {...sessionStorage}})")
    return kept + json.dumps(await page.context.cookies())


async def signing_key_secret(web: RunningParley) -> str:
    pool = await create_pool(web.settings.database_url, schema=web.settings.schema_name("accounts"), max_size=1)
    try:
        return (await managed_key(pool, account_sid=web.account.sid, box=box_of(web.settings.secret_key))).secret
    finally:
        await pool.close()


async def test_no_account_credential_reaches_the_desk_in_a_whole_session(pages: Pages, web: RunningParley) -> None:
    async with contact_center(web) as center:
        own_key = await center.post(f"/api/2010-04-01/Accounts/{web.account.sid}/Keys.json",
                                    {"FriendlyName": "the business's token server"}, status=201)
        received = Received()
        page = await pages.open("/desk/", before=received.watch)
        await sign_in(page, center.agents["alice"])
        await choose_activity(page, "Available")

        customer = await customer_chat(center, first_message="My card was charged twice")
        offer = page.get_by_role("region", name="Offers").get_by_role("listitem")
        await offer.get_by_role("button", name="Accept").click()
        chat = page.get_by_role("log", name="Messages")
        await expect(chat).to_contain_text("My card was charged twice")
        await page.get_by_label("Message", exact=True).fill("Let me refund the second charge")
        await page.get_by_role("button", name="Send").click()
        await customer.sees("message.added", author="alice")
        await customer.write("Thank you!")
        await expect(chat).to_contain_text("Thank you!")

        seen = await received.text() + await stored(page)
        # The recording works: it holds the agent's own access token and the conversation.
        access_token = json.loads(await page.evaluate("sessionStorage.getItem('parley.accessToken')"))["token"]
        assert access_token in seen and "My card was charged twice" in seen and "Thank you!" in seen
        secrets = {"the account's auth token": web.account.auth_token,
                   "the signing key's secret": await signing_key_secret(web),
                   "the business's key's secret": own_key["secret"]}
        assert [name for name, secret in secrets.items() if secret in seen] == []
        # The browser never authenticates as the account (HTTP Basic); its API calls carry the access token.
        assert [headers for headers in received.request_headers if "authorization" in headers] == []
        assert any(headers.get("x-twilio-token") == access_token for headers in received.request_headers)
        await customer.close()
