"""Media limits over real HTTP: an account's media quota (refused while an upload arrives, never half
stored) and the upload rate of one token holder (a guest flooding uploads is refused; the business's own
credentials and other guests are not)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import StartParley
from tests.conversations.identity_support import V1, conversations_alone
from tests.support.parley import RunningParley
from tests.support.realtime import token_for

QUOTA = 100_000
PER_MINUTE = 3


def stored_files(tmp_path: Path) -> list[Path]:
    root = tmp_path / "media"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


async def upload(client: httpx.AsyncClient, service: str, size: int) -> httpx.Response:
    return await client.post(f"/mcs/v1/Services/{service}/Media", content=b"\x89" * size,
                             headers={"Content-Type": "image/png"})


async def default_service(parley: RunningParley) -> str:
    async with parley.client() as http:
        return str((await http.get(f"{V1}/Configuration")).json()["default_chat_service_sid"])


def assert_quota_refused(response: httpx.Response) -> None:
    body = response.json()
    assert (response.status_code, body["code"]) == (403, 20403), response.text
    assert f"quota of {QUOTA} bytes" in body["message"]


async def test_an_account_past_its_media_quota_is_refused_and_stores_nothing(
    launch: StartParley, settings, tmp_path: Path
) -> None:
    parley = await conversations_alone(launch, settings, tmp_path, media_quota_bytes=QUOTA)
    service = await default_service(parley)
    async with parley.client() as client:
        assert (await upload(client, service, 60_000)).status_code == 201
        assert_quota_refused(await upload(client, service, 60_000))  # refused while it arrives
        assert len(stored_files(tmp_path)) == 1
        assert (await upload(client, service, 40_000)).status_code == 201  # what is left fits exactly
        assert_quota_refused(await upload(client, service, 1))  # refused before a byte is read
    assert sorted(path.stat().st_size for path in stored_files(tmp_path)) == [40_000, 60_000]


async def test_a_token_holder_uploading_too_often_is_refused_while_others_upload(
    launch: StartParley, settings, tmp_path: Path
) -> None:
    parley = await conversations_alone(launch, settings, tmp_path, media_uploads_per_minute=PER_MINUTE)
    service = await default_service(parley)
    guest_token, other_token = await token_for(parley, "guest-flood"), await token_for(parley, "guest-calm")
    async with httpx.AsyncClient(base_url=parley.base_url, headers={"X-Twilio-Token": guest_token}) as guest:
        for _ in range(PER_MINUTE):
            assert (await upload(guest, service, 10)).status_code == 201
        refused = await upload(guest, service, 10)
    body = refused.json()
    assert (refused.status_code, body["code"], refused.headers["retry-after"]) == (429, 20429, "60"), refused.text
    async with httpx.AsyncClient(base_url=parley.base_url, headers={"X-Twilio-Token": other_token}) as other:
        assert (await upload(other, service, 10)).status_code == 201
    async with parley.client() as business:
        for _ in range(PER_MINUTE + 1):
            assert (await upload(business, service, 10)).status_code == 201
    assert len(stored_files(tmp_path)) == 2 * PER_MINUTE + 2  # nothing of the refused one
