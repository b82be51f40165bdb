"""Router instances as separate OS processes on the test's settings (for crash and two-process tests)."""

from __future__ import annotations

import subprocess

import httpx

from shared.settings import Settings
from tests.support import processes
from tests.support.processes import stop_process

ROOT = "/taskrouter/v1/Workspaces"
__all__ = ["ROOT", "start_router_process", "stop_process", "wait_until_serving"]


def start_router_process(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    return processes.start_service_process(settings, "router", port=port, PARLEY_POLL_INTERVAL="0.2",
                                           LOG_LEVEL="WARNING")


async def wait_until_serving(client: httpx.AsyncClient) -> None:
    await processes.wait_until_serving(client, ROOT)
