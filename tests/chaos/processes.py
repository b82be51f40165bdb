"""Parley's services as separate OS processes (`python -m services.<name>`), each replica on its own port, which
the chaos suite kills with SIGKILL and starts again."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.parley import REPOSITORY
from tests.support.waiting import eventually


@dataclass
class ParleyProcess:
    service: str
    replica: int
    port: int
    environment: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0

    @property
    def name(self) -> str:
        return f"{self.service}-{self.replica}"

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen([sys.executable, "-m", f"services.{self.service}"], cwd=REPOSITORY,
                                          env={**self.environment, "PORT": str(self.port)},
                                          stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1

    def kill(self) -> None:
        """kill -9: no shutdown code runs, whatever it held unacked or uncommitted is the others' to recover."""
        if self.alive:
            assert self.popen is not None
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=30)
            self.kills += 1


    async def wait_until_serving(self, account_sid: str, auth_token: str, *, timeout: float = 120) -> None:
        """Its own port answers an authenticated request (every service mounts the accounts API)."""
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", auth=(account_sid, auth_token),
                                     timeout=5) as http:
            async def serving() -> bool:
                if not self.alive:
                    raise AssertionError(f"{self.name} exited ({self.popen and self.popen.returncode}); "
                                         f"see {self.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    return (await http.get(f"/api/2010-04-01/Accounts/{account_sid}.json")).status_code == 200
                return False

            await eventually(serving, timeout=timeout, what=f"{self.name} serving on {self.port}")

    def log_bytes(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0


def stop_all(processes: Sequence[ParleyProcess], *, grace_seconds: float = 5) -> None:
    """SIGTERM to all at once, then SIGKILL to whichever has not exited within the grace."""
    running = [process for process in processes if process.alive]
    for process in running:
        assert process.popen is not None
        process.popen.terminate()
    deadline = time.monotonic() + grace_seconds
    for process in running:
        assert process.popen is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        process.kill()
