"""Throttled guessing: sign-ins and Basic credentials per (email or SID, client address) and per address, in
PostgreSQL so that every replica counts alike; nobody is locked out from an address that did not guess.

Client addresses are told apart as behind a proxy: the test connects from loopback, which uvicorn trusts by
default to name the client in X-Forwarded-For (FORWARDED_ALLOW_IPS in production names the proxy)."""

import asyncio
import math
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml

from shared.runtime import free_port
from shared.settings import Settings
from tests.conftest import StartParley
from tests.support.infrastructure import Infrastructure
from tests.support.parley import RunningParley, remove_isolated_names
from tests.support.parley import test_settings as isolated_settings
from tests.support.waiting import eventually

PER_CREDENTIAL, PER_ADDRESS, WINDOW, SHORT_WINDOW = 3, 6, 600, 5
ALICE = ("alice@example.com", "correct horse battery")
BOB = ("bob@example.com", "staple gun and tape")


def throttled_settings(infra: Infrastructure, **overrides: Any) -> Settings:
    return isolated_settings(infra, **{
        "PARLEY_AUTH_FAILURES_PER_CREDENTIAL": PER_CREDENTIAL, "PARLEY_AUTH_FAILURES_PER_ADDRESS": PER_ADDRESS,
        "PARLEY_AUTH_FAILURE_WINDOW": WINDOW, "PARLEY_AUTH_THROTTLE_CACHE": 0, **overrides,
    })


@pytest.fixture
async def settings(infra: Infrastructure) -> AsyncIterator[Settings]:
    isolated = throttled_settings(infra)
    yield isolated
    await remove_isolated_names(isolated)


async def with_agents(parley: RunningParley) -> None:
    async with parley.client() as owner:
        for name, credentials in (("alice", ALICE), ("bob", BOB)):
            email, password = credentials
            created = await owner.post("/parley/v1/Agents", data={"Identity": name, "Email": email, "Password": password})
            assert created.status_code == 201, created.text


def from_address(parley: RunningParley, address: str, auth: tuple[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=parley.base_url, headers={"X-Forwarded-For": address}, auth=auth, timeout=30)


async def sign_in(parley: RunningParley, client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    """Sign in to `parley`'s dev account through `client` (which may be another replica or carry an address)."""
    return await client.post("/parley/v1/AccessTokens",
                             data={"AccountSid": parley.account.sid, "Email": email, "Password": password})


def assert_throttled(response: httpx.Response, *, window: float = WINDOW) -> None:
    body = response.json()
    assert (response.status_code, body["code"], body["status"]) == (429, 20429, 429), response.text
    assert body["more_info"] == "https://www.twilio.com/docs/errors/20429" and body["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= math.ceil(window)


def assert_refused(response: httpx.Response) -> None:
    assert (response.status_code, response.json()["code"]) == (401, 20003), response.text


async def test_guessing_an_agents_password_throttles_that_address_and_not_the_agent_elsewhere(
    parley: RunningParley,
) -> None:
    await with_agents(parley)
    async with from_address(parley, "198.51.100.7") as attacker, from_address(parley, "203.0.113.20") as office:
        for _ in range(PER_CREDENTIAL):
            assert_refused(await sign_in(parley, attacker, ALICE[0], "wrong guess at it"))
        assert_throttled(await sign_in(parley, attacker, ALICE[0], "another wrong guess"))
        assert_throttled(await sign_in(parley, attacker, "ALICE@example.com", ALICE[1]))  # right, but from there
        assert (await sign_in(parley, office, *ALICE)).status_code == 201  # the agent at her own desk
        assert (await sign_in(parley, attacker, *BOB)).status_code == 201  # the address is not throttled whole yet


async def test_an_address_spraying_many_emails_is_throttled_whole_while_others_sign_in(parley: RunningParley) -> None:
    await with_agents(parley)
    async with from_address(parley, "2001:db8:7:1::9") as sprayer, from_address(parley, "2001:db8:7:1::77") as same_net, \
            from_address(parley, "2001:db8:8::1") as elsewhere:
        for n in range(PER_ADDRESS):
            assert_refused(await sign_in(parley, sprayer, f"guess{n}@example.com", "Summer2026!!!"))
        assert_throttled(await sign_in(parley, sprayer, *ALICE))
        assert_throttled(await sign_in(parley, same_net, *BOB))  # IPv6 counts by /64: one host holds it whole
        assert (await sign_in(parley, elsewhere, *ALICE)).status_code == 201


async def test_parallel_guesses_cannot_outrun_the_count(parley: RunningParley) -> None:
    await with_agents(parley)
    guesses = [f"guess number {n}" for n in range(19)] + [ALICE[1]]  # the right one comes last
    async with from_address(parley, "198.51.100.8") as attacker:
        answers = await asyncio.gather(*(sign_in(parley, attacker, ALICE[0], guess) for guess in guesses))
    # Each guess is judged against the counts of those judged before it, so the burst gets no further than
    # one guess after another would: three wrong ones, then 429 for the rest, the right one among them.
    assert [response.status_code for response in answers].count(401) == PER_CREDENTIAL
    assert_throttled(answers[-1])


async def test_guessing_basic_credentials_throttles_that_address_while_the_account_works_elsewhere(
    parley: RunningParley,
) -> None:
    account = parley.account
    async with parley.client() as owner:
        key = (await owner.post(f"/api/2010-04-01/Accounts/{account.sid}/Keys.json")).json()
    async with from_address(parley, "198.51.100.9", (account.sid, "0" * 32)) as guesser:
        for _ in range(PER_CREDENTIAL):
            assert_refused(await guesser.get("/parley/v1/Agents"))
        assert_throttled(await guesser.get("/parley/v1/Agents"))
    async with from_address(parley, "198.51.100.9", (account.sid, account.auth_token)) as same_address:
        assert_throttled(await same_address.get("/parley/v1/Agents"))  # right, but from the guessing address
    async with from_address(parley, "198.51.100.9", (key["sid"], key["secret"])) as key_from_there:
        assert (await key_from_there.get("/parley/v1/Agents")).status_code == 200  # another credential
    async with from_address(parley, "203.0.113.30", (account.sid, account.auth_token)) as elsewhere:
        assert (await elsewhere.get("/parley/v1/Agents")).status_code == 200
    async with parley.client() as from_loopback:  # the test's own address, never named by a header
        assert (await from_loopback.get("/parley/v1/Agents")).status_code == 200
    async with from_address(parley, "198.51.100.10", (key["sid"], "wrong secret")) as key_guesser:
        for _ in range(PER_CREDENTIAL):
            assert_refused(await key_guesser.get("/parley/v1/Agents"))
        assert_throttled(await key_guesser.get("/parley/v1/Agents"))


async def test_every_replica_counts_the_same_guesses(launch: StartParley, settings: Settings) -> None:
    first = await launch([])
    second = await launch([], port=free_port())
    await with_agents(first)
    address = "198.51.100.11"
    async with from_address(first, address) as to_first, from_address(second, address) as to_second:
        assert_refused(await sign_in(first, to_first, ALICE[0], "first wrong guess"))
        assert_refused(await sign_in(first, to_second, ALICE[0], "second wrong guess"))
        assert_refused(await sign_in(first, to_first, ALICE[0], "third wrong guess"))
        assert_throttled(await sign_in(first, to_second, *ALICE))
        assert_throttled(await sign_in(first, to_first, *ALICE))
    wrong, right = (first.account.sid, "0" * 32), (first.account.sid, first.account.auth_token)
    async with from_address(first, address, wrong) as to_first, from_address(second, address, wrong) as to_second:
        for client in (to_first, to_second, to_first):
            assert_refused(await client.get("/parley/v1/Agents"))
    for replica in (first, second):
        async with from_address(replica, address, right) as client:
            assert_throttled(await client.get("/parley/v1/Agents"))


@pytest.fixture
async def short(infra: Infrastructure) -> AsyncIterator[Settings]:
    """A window of 5 s (long enough for three sign-ins on a busy machine), pruned every 0.2 s."""
    isolated = throttled_settings(infra, PARLEY_AUTH_FAILURE_WINDOW=SHORT_WINDOW, PARLEY_RETENTION_INTERVAL=0.2)
    yield isolated
    await remove_isolated_names(isolated)


async def test_a_throttle_ends_with_its_window_and_ended_counts_are_pruned(short: Settings,
                                                                         launch: StartParley) -> None:
    parley = await launch([], settings=short)
    await with_agents(parley)
    async with from_address(parley, "198.51.100.12") as attacker:
        for _ in range(PER_CREDENTIAL):
            assert_refused(await sign_in(parley, attacker, ALICE[0], "wrong guess at it"))
        assert_throttled(await sign_in(parley, attacker, *ALICE), window=SHORT_WINDOW)
        signed_in = await eventually(lambda: sign_in(parley, attacker, *ALICE), until=lambda r: r.status_code != 429,
                                     timeout=15, what="the window to end")
        assert signed_in.status_code == 201
    conn = await asyncpg.connect(short.database_url, server_settings={"search_path": short.schema_name("accounts")})
    try:
        await eventually(lambda: conn.fetchval("SELECT count(*) FROM guess_counts"), until=lambda n: n == 0,
                         timeout=15, what="ended counts to be pruned")
    finally:
        await conn.close()


async def test_an_agent_password_has_at_least_twelve_characters(parley: RunningParley) -> None:
    async with parley.client() as owner:
        short = await owner.post("/parley/v1/Agents", data={"Identity": "carol", "Email": "carol@example.com",
                                                             "Password": "elevenchars"})
        body = short.json()
        assert (short.status_code, body["code"], body["status"]) == (400, 20001, 400)
        assert "12" in body["message"]
        assert (await owner.get("/parley/v1/Agents")).json()["agents"] == []  # nothing was created
        twelve = await owner.post("/parley/v1/Agents", data={"Identity": "carol", "Email": "carol@example.com",
                                                              "Password": "twelve chars"})
        assert twelve.status_code == 201, twelve.text
    async with httpx.AsyncClient(base_url=parley.base_url) as desk:
        assert (await sign_in(parley, desk, "carol@example.com", "twelve chars")).status_code == 201


def test_behind_docker_composes_proxy_each_client_counts_as_itself() -> None:
    """The services trust X-Forwarded-For, and the proxy writes it from its peer rather than extending the
    client's own (a client could otherwise name any address, and guess from a new one each time)."""
    root = Path(__file__).resolve().parents[2]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    for name in ("ingress", "conversations", "router", "webhooks"):
        assert compose["services"][name]["environment"]["FORWARDED_ALLOW_IPS"] == "*", name
        assert "ports" not in compose["services"][name], f"{name} must be reachable through the proxy alone"
    headers = re.findall(r"proxy_set_header X-Forwarded-For (\S+);", (root / "deploy" / "nginx.conf").read_text())
    assert headers == ["$remote_addr"]
