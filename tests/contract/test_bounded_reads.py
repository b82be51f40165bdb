"""Bounded reads on the real stack: a server Parley calls answers with a 400 MB body that never ends, and Parley
hangs up once it has read its limit (the answer limit for webhooks, callbacks and pre-event answers; the
media limit for a provider's media URL), the server counting what it got out. An upload past the media limit
is refused while it arrives and leaves nothing in the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.settings import Settings
from tests.conftest import StartParley
from tests.ingress.carrier import CARRIER_ACCOUNT_SID, create_provider, inbound_sms, post_signed
from tests.ingress.stored_inbound import the_conversation
from tests.support.hostile_server import EndlessAnswers
from tests.support.parley import RunningParley

ANSWER_LIMIT = 256 * 1024
MEDIA_LIMIT = 512 * 1024
SLACK = 64 * 1024  # what may be in flight when the caller hangs up: socket and write buffers
NUMBER = "+15550003333"


@pytest.fixture
async def hostile() -> AsyncIterator[EndlessAnswers]:
    server = EndlessAnswers()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def parley(launch: StartParley, settings: Settings, tmp_path: Path) -> RunningParley:
    return await launch(settings=settings.model_copy(update={
        "outbound_answer_max_bytes": ANSWER_LIMIT, "media_max_bytes": MEDIA_LIMIT,
        "media_directory": str(tmp_path / "media")}))


async def test_a_workspace_event_callback_answering_without_end_is_cut_at_the_answer_limit(
    parley: RunningParley, hostile: EndlessAnswers
) -> None:
    async with parley.client() as client:
        created = await client.post("/taskrouter/v1/Workspaces", data={
            "FriendlyName": "Callbacks", "EventCallbackUrl": f"{hostile.url}/events"})
        assert created.status_code == 201, created.text
    answer = await hostile.first_hung_up()
    assert answer.request_line.startswith("POST /events")
    assert ANSWER_LIMIT <= answer.sent <= ANSWER_LIMIT + SLACK, answer.sent


async def sms_number(client: httpx.AsyncClient) -> dict[str, Any]:
    """A provider for NUMBER and a conversation auto-created for every customer who writes to it."""
    provider = await create_provider(client, NUMBER)
    configured = await client.post("/conversations/v1/Configuration/Addresses", data={
        "Type": "sms", "Address": NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "default"})
    assert configured.status_code == 201, configured.text
    return provider


async def test_a_pre_event_webhook_answering_without_end_is_cut_and_the_message_goes_ahead(
    parley: RunningParley, hostile: EndlessAnswers
) -> None:
    async with parley.client() as client:
        provider = await sms_number(client)
        configured = await client.post("/conversations/v1/Configuration/Webhooks", data={
            "PreWebhookUrl": f"{hostile.url}/pre", "Method": "POST", "Filters": "onConversationAdd",
            "Target": "webhook"})  # a new customer's first message asks it
        assert configured.status_code == 200, configured.text
        assert (await post_signed(provider["inbound_url"], inbound_sms(to=NUMBER, body="asked first"))).status_code == 200
        answer = await hostile.first_hung_up()
        _, (message,) = await the_conversation(client)  # an unreadable answer lets the action through
    assert answer.request_line.startswith("POST /pre") and message["body"] == "asked first"
    assert ANSWER_LIMIT <= answer.sent <= ANSWER_LIMIT + SLACK, answer.sent


async def test_an_inbound_media_url_answering_without_end_is_cut_at_the_media_limit(
    parley: RunningParley, hostile: EndlessAnswers
) -> None:
    async with parley.client() as client:
        provider = await sms_number(client)
        form = inbound_sms(to=NUMBER, body="a big one", NumMedia="1", MediaContentType0="image/jpeg",
                           MediaUrl0=f"{hostile.url}/2010-04-01/Accounts/{CARRIER_ACCOUNT_SID}/Messages/MM9/Media/ME0")
        assert (await post_signed(provider["inbound_url"], form)).status_code == 200
        answer = await hostile.first_hung_up()
        _, (message,) = await the_conversation(client)
    assert MEDIA_LIMIT <= answer.sent <= MEDIA_LIMIT + SLACK, answer.sent
    assert message["body"] == "a big one" and not message["media"]  # the message, without the file it could not keep


async def test_an_upload_past_the_media_limit_is_refused_as_it_arrives_and_stores_nothing(
    parley: RunningParley, tmp_path: Path
) -> None:
    async with parley.client() as client:
        service = (await client.get("/conversations/v1/Configuration")).json()["default_chat_service_sid"]
        sent = 0

        async def body() -> AsyncIterator[bytes]:
            nonlocal sent
            for _ in range(4 * MEDIA_LIMIT // 8192):
                sent += 8192
                yield b"\xff" * 8192

        media = f"/mcs/v1/Services/{service}/Media"
        raw = await client.post(media, content=body(), headers={"Content-Type": "image/jpeg"})
        multipart = await client.post(media, files={"media": ("big.jpg", b"\xff" * (MEDIA_LIMIT + 1), "image/jpeg")})
        for refused in (raw, multipart):
            assert (refused.status_code, refused.json()["code"]) == (400, 50512), refused.text
        at_the_limit = await client.post(media, content=b"\xff" * MEDIA_LIMIT, headers={"Content-Type": "image/jpeg"})
        assert at_the_limit.status_code == 201, at_the_limit.text  # the barrier: the store takes what fits
        downloaded = await client.get(at_the_limit.json()["links"]["content"])
    assert downloaded.content == b"\xff" * MEDIA_LIMIT
    assert int(downloaded.headers["content-length"]) == MEDIA_LIMIT
    stored = [path for path in (tmp_path / "media").rglob("*") if path.is_file()]
    assert len(stored) == 1 and stored[0].stat().st_size == MEDIA_LIMIT  # nothing of the refused two, no temp file

