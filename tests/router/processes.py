"""Router instances as separate OS processes on the test's settings (for crash and two-process tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from shared.settings import Settings
from tests.support.parley import process_environment
from tests.support.waiting import eventually

ROOT = "/taskrouter/v1/Workspaces"
REPOSITORY = Path(__file__).resolve().parents[2]


def start_router_process(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = process_environment(settings, PORT=str(port), PARLEY_POLL_INTERVAL="0.2",
                              PARLEY_DELIVERY_LIMIT=str(settings.delivery_limit), LOG_LEVEL="WARNING")
    return subprocess.Popen([sys.executable, "-m", "services.router"], cwd=REPOSITORY, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(timeout=10)


async def wait_until_serving(client: httpx.AsyncClient) -> None:
    async def probe() -> bool:
        try:
            return (await client.get(ROOT)).status_code == 200
        except httpx.HTTPError:
            return False
    await eventually(probe, timeout=60, what="router process serving")
