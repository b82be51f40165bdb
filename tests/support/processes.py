"""Parley services as separate OS processes on a test's settings, for tests that kill one (kill -9) or read
what it logged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import IO

import httpx

from shared.settings import Settings
from tests.support.parley import REPOSITORY, process_environment
from tests.support.waiting import eventually


def start_service_process(settings: Settings, service: str, *, port: int, output: IO[bytes] | int = subprocess.DEVNULL,
                          **env: str) -> subprocess.Popen[bytes]:
    """`python -m services.<service>` on `settings` and `port`; its stdout and stderr go to `output`."""
    environment = process_environment(settings, PORT=str(port), PARLEY_DELIVERY_LIMIT=str(settings.delivery_limit),
                                      **env)
    return subprocess.Popen([sys.executable, "-m", f"services.{service}"], cwd=REPOSITORY, env=environment,
                            stdout=output, stderr=subprocess.STDOUT)


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """As a crash would: SIGKILL, nothing given back."""
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(timeout=10)


async def wait_until_serving(client: httpx.AsyncClient, path: str) -> None:
    async def probe() -> bool:
        try:
            return (await client.get(path)).status_code == 200
        except httpx.HTTPError:
            return False
    await eventually(probe, timeout=60, what=f"a process serving {path}")


def read_lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines() if path.exists() else []
