"""Secrets at rest on the real stack: what a database dump holds is sealed under PARLEY_SECRET_KEY, rows
written before sealing are sealed at start-up, `parley rotate-secret-key` moves every secret to a new key,
and a service started without the key refuses to start, saying what to do."""

from __future__ import annotations

import asyncio
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx

from services.catalog import ALL_SERVICES
from shared.crypto import PREFIX, generate_key
from shared.runtime import free_port
from shared.settings import Settings
from tests.conftest import StartParley
from tests.ingress.carrier import create_provider
from tests.support.parley import REPOSITORY, RunningParley, process_environment

PROVIDER_TOKEN = "provider-auth-token-0123456789"
PUSH_SECRET = "fcm-server-key-0123456789abcdef"


async def store_secrets(parley: RunningParley) -> dict[str, str]:
    """One of every kind of stored secret, made through the API; returns them by name."""
    async with parley.client() as client:
        key = await client.post(f"/api/2010-04-01/Accounts/{parley.account.sid}/Keys.json", data={"FriendlyName": "ci"})
        assert key.status_code == 201, key.text
        await create_provider(client, "+15550002222", auth_token=PROVIDER_TOKEN)
        push = await client.post("/conversations/v1/Credentials", data={"Type": "fcm", "Secret": PUSH_SECRET})
        assert push.status_code == 201, push.text
    return {"auth token": parley.account.auth_token, "key secret": key.json()["secret"], "key sid": key.json()["sid"],
            "provider token": PROVIDER_TOKEN, "push secret": PUSH_SECRET}


async def database_dump(settings: Settings) -> str:
    """Every row of every table of this test's schemas, as text: what a stolen dump would show."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE starts_with(table_schema, $1) AND table_type = 'BASE TABLE'", settings.schema_prefix)
        rows = [await conn.fetch(f'SELECT to_jsonb(t)::text AS row FROM "{t["table_schema"]}"."{t["table_name"]}" t')
                for t in tables]
    finally:
        await conn.close()
    return "\n".join(row["row"] for found in rows for row in found)


async def works(parley: RunningParley, secrets: dict[str, str]) -> None:
    """The stored secrets still open: the account's token and the API key authenticate."""
    for credentials in ((parley.account.sid, secrets["auth token"]), (secrets["key sid"], secrets["key secret"])):
        async with httpx.AsyncClient(base_url=parley.base_url, auth=credentials) as client:
            answer = await client.get("/conversations/v1/Credentials")
            assert answer.status_code == 200, answer.text
            assert answer.json()["credentials"][0]["type"] == "fcm"


async def test_a_database_dump_holds_no_secret_in_the_clear(parley: RunningParley) -> None:
    secrets = await store_secrets(parley)
    await works(parley, secrets)  # the barrier: every secret was stored and is in use
    dump = await database_dump(parley.settings)
    assert PREFIX in dump
    for name, secret in secrets.items():
        if name != "key sid":
            assert secret not in dump, f"the {name} is stored in the clear"


async def test_secrets_stored_before_sealing_are_sealed_at_start_up(launch: StartParley, settings: Settings) -> None:
    first = await launch()
    secrets = await store_secrets(first)
    await first.stop()
    conn = await asyncpg.connect(settings.database_url)
    try:  # as a database from before sealing holds them
        await conn.execute(f'UPDATE "{settings.schema_name("accounts")}".api_keys SET secret = $2 WHERE sid = $1',
                           secrets["key sid"], secrets["key secret"])
    finally:
        await conn.close()
    assert secrets["key secret"] in await database_dump(settings)
    second = await launch()
    assert secrets["key secret"] not in await database_dump(settings)
    await works(second, secrets)


async def run_cli(settings: Settings, *args: str, **env: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shared.cli", *args, cwd=REPOSITORY, env=process_environment(settings, **env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_rotating_the_key_reseals_every_secret_and_the_old_key_can_go(
    launch: StartParley, settings: Settings
) -> None:
    old = await launch()
    secrets = await store_secrets(old)
    await old.stop()
    new_key = generate_key()
    code, output = await run_cli(settings, "rotate-secret-key", "--new-key", new_key)
    assert code == 0, output
    resealed: dict[str, Any] = dict(line.rsplit(": ", 1) for line in output.splitlines() if line.endswith("re-sealed"))
    assert resealed["accounts.api_keys.secret"] == "1 re-sealed" and resealed["ingress.providers.credentials"] == "1 re-sealed"
    # Rotated once more: nothing is left under an older key.
    code, again = await run_cli(settings, "rotate-secret-key", "--new-key", new_key)
    assert code == 0 and all(line.endswith(": 0 re-sealed") for line in again.splitlines() if "re-sealed" in line), again
    rotated = await launch(settings=settings.model_copy(update={"secret_key": new_key}))
    await works(rotated, secrets)


async def test_a_service_alone_without_the_key_refuses_to_start_and_says_why(settings: Settings) -> None:
    for service in ALL_SERVICES:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"services.{service.name}", cwd=REPOSITORY,
            env=process_environment(settings, PARLEY_SECRET_KEY=""),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, errors = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode != 0
        assert "PARLEY_SECRET_KEY is not set" in errors.decode() and "generate-secret-key" in errors.decode()


async def test_page_tokens_from_one_replica_page_on_another_and_forged_ones_are_refused(
    launch: StartParley, settings: Settings
) -> None:
    first = await launch()
    second = await launch(port=free_port())
    async with first.client() as client:
        for name in ("one", "two", "three"):
            assert (await client.post("/conversations/v1/Conversations", data={"FriendlyName": name})).status_code == 201
        page = (await client.get("/conversations/v1/Conversations", params={"PageSize": "1"})).json()
    token = parse_qs(urlsplit(page["meta"]["next_page_url"]).query)["PageToken"][0]
    async with second.client() as client:
        following = await client.get("/conversations/v1/Conversations", params={"PageSize": "1", "PageToken": token})
        assert following.status_code == 200, following.text
        assert following.json()["conversations"][0]["sid"] != page["conversations"][0]["sid"]
        for forged in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "PT" + token[2:][::-1], "x"):
            refused = await client.get("/conversations/v1/Conversations", params={"PageToken": forged})
            assert refused.status_code == 400 and refused.json()["code"] == 20001, refused.text
    other_key = await launch(settings=settings.model_copy(update={"secret_key": f"{generate_key()},{settings.secret_key}",
                                                                  "port": free_port()}))
    async with other_key.client() as client:  # a replica that has not rotated yet still pages with it
        assert (await client.get("/conversations/v1/Conversations",
                                 params={"PageSize": "1", "PageToken": token})).status_code == 200
