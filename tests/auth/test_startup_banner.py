"""The start-up banner: the auth token only for `parley run`'s own dev account on loopback; the SID elsewhere."""

import asyncio
import re
import signal
import sys
from pathlib import Path

import httpx

from shared.auth.accounts import Account
from shared.runtime import startup_banner
from shared.settings import Settings
from shared.sids import new_sid, new_token
from tests.support.parley import process_environment

ROOT = Path(__file__).resolve().parents[2]
HEX32 = re.compile(r"\b[0-9a-f]{32}\b")


async def test_parley_run_prints_the_token_of_the_dev_account_it_created_and_the_token_works(
    settings: Settings,
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shared.cli", "run", cwd=ROOT, env=process_environment(settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        banner = await read_banner(process)
        sid = re.search(r"Account SID: (AC[0-9a-f]{32})", banner)
        token = re.search(r"Auth token:  ([0-9a-f]{32})", banner)
        assert sid and token, banner
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}") as client:
            response = await client.get(f"/api/2010-04-01/Accounts/{sid[1]}.json", auth=(sid[1], token[1]))
        assert response.status_code == 200 and response.json()["auth_token"] == token[1]
    finally:
        await terminate(process)


async def test_one_service_alone_prints_the_account_sid_and_never_the_token(settings: Settings) -> None:
    for extra in ({}, {"PARLEY_ACCOUNT_SID": new_sid("AC"), "PARLEY_AUTH_TOKEN": new_token()}):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.webhooks", cwd=ROOT, env=process_environment(settings, **extra),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        try:
            banner = await read_banner(process)
        finally:
            await terminate(process)
        sid = re.search(r"Account SID: (AC[0-9a-f]{32})", banner)
        assert sid, banner
        if extra:
            assert sid[1] == extra["PARLEY_ACCOUNT_SID"] and extra["PARLEY_AUTH_TOKEN"] not in banner
        assert HEX32.findall(banner.replace(sid[1], "")) == [], banner  # no token, whichever account it is
        assert "not printed" in banner


def test_the_one_process_banner_hides_the_token_off_loopback_and_for_an_account_given_by_the_environment() -> None:
    account = Account(sid=new_sid("AC"), friendly_name="dev", auth_token=new_token(), owner_account_sid=None,
                      status="active", date_created=None, date_updated=None)  # type: ignore[arg-type]
    cases = {
        "0.0.0.0": (Settings(HOST="0.0.0.0"), False),
        "a public name": (Settings(HOST="parley.example.com"), False),
        "given by the environment": (Settings(HOST="127.0.0.1", PARLEY_ACCOUNT_SID=account.sid,
                                              PARLEY_AUTH_TOKEN=account.auth_token), False),
        "loopback, IPv6": (Settings(HOST="::1"), True),
        "localhost": (Settings(HOST="localhost"), True),
    }
    for case, (settings, shown) in cases.items():
        banner = startup_banner(settings, account, one_process=True)
        assert account.sid in banner, case
        assert (account.auth_token in banner) is shown, case
        assert account.auth_token not in startup_banner(settings, account, one_process=False), case


async def read_banner(process: asyncio.subprocess.Process) -> str:
    """Stdout up to the blank line that ends the banner, within a deadline."""
    assert process.stdout is not None
    lines: list[str] = []
    async with asyncio.timeout(90):
        while not (lines and lines[-1] == "" and any(line.startswith("Parley is running") for line in lines)):
            line = await process.stdout.readline()
            assert line, "the process ended before it printed its banner"
            lines.append(line.decode().rstrip("\n"))
    return "\n".join(lines)


async def terminate(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            async with asyncio.timeout(30):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
