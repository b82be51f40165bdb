"""Access tokens never reach a log line: the ingress service run as in its own container (`python -m
services.ingress`, JSON logs on stderr), a real WebSocket connecting with `?token=`, its real log output read."""

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from shared.settings import Settings
from shared.sids import new_sid, new_token
from tests.support.parley import process_environment
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


class IngressProcess:
    def __init__(self, settings: Settings, log_file: Path) -> None:
        self.base_url = f"http://127.0.0.1:{settings.port}"
        self.ws_url = f"ws://127.0.0.1:{settings.port}/ingress/ws"
        self.account = (new_sid("AC"), new_token())
        self.log_file = log_file
        self.env = process_environment(settings, PARLEY_ACCOUNT_SID=self.account[0],
                                       PARLEY_AUTH_TOKEN=self.account[1], PARLEY_LOG_JSON="true", LOG_LEVEL="INFO")

    def log(self) -> str:
        return self.log_file.read_text()


@pytest.fixture
async def ingress_process(settings: Settings, tmp_path: Path) -> AsyncIterator[IngressProcess]:
    running = IngressProcess(settings, tmp_path / "ingress.log")
    with running.log_file.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.ingress", cwd=ROOT,
                                                       env=running.env, stdout=stderr, stderr=stderr)
    try:
        async with httpx.AsyncClient(base_url=running.base_url, auth=running.account) as client:
            async def answers() -> bool:
                if process.returncode is not None:
                    raise AssertionError(f"ingress exited: {running.log()}")
                try:
                    return (await client.get("/parley/v1/Providers")).status_code == 200
                except httpx.TransportError:
                    return False
            await eventually(answers, timeout=60, what="the ingress process to serve")
        yield running
    finally:
        process.terminate()
        await process.wait()


async def test_a_websocket_token_is_redacted_from_the_logs(ingress_process: IngressProcess) -> None:
    async with httpx.AsyncClient(base_url=ingress_process.base_url, auth=ingress_process.account) as client:
        issued = await client.post("/ingress/webchat/tokens", data={"Identity": "guest-ada"})
        assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    async with connect(f"{ingress_process.ws_url}?token={token}") as ws:
        assert json.loads(await ws.recv())["type"] == "connected"
    wrong = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")  # a bad signature: refused, still logged
    with pytest.raises(InvalidStatus):
        await connect(f"{ingress_process.ws_url}?resume_from=0&token={wrong}")

    async def connection_lines() -> list[str]:
        """The messages of the JSON log lines uvicorn wrote for WebSocket connections."""
        lines = [json.loads(line) for line in ingress_process.log().splitlines() if line.startswith("{")]
        return [str(line["message"]) for line in lines if "WebSocket /ingress/ws" in str(line["message"])]

    # Barrier: both connections have been logged.
    messages = await eventually(connection_lines, until=lambda found: len(found) >= 2,
                                what="uvicorn to log both connections")
    assert messages[0].endswith(' - "WebSocket /ingress/ws?token=[redacted]" [accepted]'), messages
    assert messages[1].endswith(' - "WebSocket /ingress/ws?resume_from=0&token=[redacted]" 403'), messages
    whole = ingress_process.log()
    assert token not in whole and wrong not in whole
    assert token.split(".")[2] not in whole and wrong.split(".")[2] not in whole  # not even the signatures
