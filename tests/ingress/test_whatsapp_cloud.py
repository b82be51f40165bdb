"""Meta's WhatsApp Cloud API: verification handshake, signed webhooks in, Graph API sends out, the 24-hour window."""

import json
import uuid
from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse, Response

from services.ingress.domain.whatsapp_cloud import hub_signature
from shared.blobs import LocalDirectoryBlobStore
from shared.runtime import free_port
from tests.ingress.inbound_tap import InboundTap, envelope_of
from tests.ingress.provider_api import FakeProviderApi, publish_send, send_command
from tests.ingress.stored_inbound import the_conversation
from tests.support.parley import RunningParley
from tests.support.receiver import ReceivedRequest, Receiver

NUMBER = "whatsapp:+15550003333"
CUSTOMER_WA_ID = "15557654321"
CUSTOMER = f"whatsapp:+{CUSTOMER_WA_ID}"
APP_SECRET = "meta-app-secret-0001"
VERIFY_TOKEN = "verify-me-0001"
ACCESS_TOKEN = "EAAG-access-token"
PHONE_NUMBER_ID = "106540352242922"
MEDIA_ID = "1479537139650973"
PHOTO = b"\xff\xd8\xff receipt photo \xff\xd9"


@pytest.fixture
async def graph(receiver: Receiver) -> FakeProviderApi:
    return FakeProviderApi(receiver, meta=True, sid_for=lambda _: "wamid." + uuid.uuid4().hex)


@pytest.fixture
async def provider(ingress: RunningParley, graph: FakeProviderApi) -> dict[str, Any]:
    return await create_cloud_provider(ingress, graph.url)


async def create_cloud_provider(parley: RunningParley, api_base_url: str) -> dict[str, Any]:
    """A `whatsapp_cloud` provider for NUMBER whose Graph API is at `api_base_url`; its JSON as rendered."""
    async with parley.client() as client:
        response = await client.post("/parley/v1/Providers", data={
            "Type": "whatsapp_cloud", "FriendlyName": "Meta", "Addresses": NUMBER, "ApiBaseUrl": api_base_url,
            "Credentials.AccessToken": ACCESS_TOKEN, "Credentials.AppSecret": APP_SECRET,
            "Credentials.VerifyToken": VERIFY_TOKEN, "Credentials.PhoneNumberId": PHONE_NUMBER_ID,
        })
    assert response.status_code == 201, response.text
    body = dict(response.json())
    assert body["inbound_url"].endswith(f"/ingress/providers/{body['sid']}/whatsapp")
    return body


def webhook(*, messages: list[dict[str, Any]] | None = None, statuses: list[dict[str, Any]] | None = None) -> bytes:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550003333", "phone_number_id": PHONE_NUMBER_ID},
    }
    if messages is not None:
        value["contacts"] = [{"profile": {"name": "Ada"}, "wa_id": CUSTOMER_WA_ID}]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(payload).encode()


def text_message(body: str) -> dict[str, Any]:
    return {"from": CUSTOMER_WA_ID, "id": "wamid." + uuid.uuid4().hex, "timestamp": "1764060000", "type": "text",
            "text": {"body": body}}


def image_message(caption: str) -> dict[str, Any]:
    return {"from": CUSTOMER_WA_ID, "id": "wamid." + uuid.uuid4().hex, "timestamp": "1764060001", "type": "image",
            "image": {"id": MEDIA_ID, "mime_type": "image/jpeg", "sha256": "abc", "caption": caption}}


def serve_media(graph: FakeProviderApi) -> None:
    """The fake Graph API also serves MEDIA_ID: Meta's media object (Bearer token only) names the file's URL, and
    the file itself needs the token too. Sends (POSTs) are answered as before."""
    sends = graph.receiver.responder
    assert sends is not None

    def media_then_sends(request: ReceivedRequest) -> Response | None:
        if request.method != "GET":
            return sends(request)
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return Response(status_code=401)
        if request.path == f"/{MEDIA_ID}":
            return JSONResponse({"url": f"{graph.url}/files/receipt.jpg", "mime_type": "image/jpeg", "id": MEDIA_ID})
        return Response(PHOTO, media_type="image/jpeg") if request.path == "/files/receipt.jpg" else None

    graph.receiver.responder = media_then_sends


async def post_webhook(url: str, body: bytes, *, secret: str | None = APP_SECRET,
                       signature: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is None and secret is not None:
        signature = hub_signature(body, secret)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url, content=body, headers=headers)


async def open_window(provider: dict[str, Any], inbound_tap: InboundTap) -> None:
    """The customer writes first, so free-form replies may go for 24 hours."""
    assert (await post_webhook(provider["inbound_url"], webhook(messages=[text_message("hi")]))).status_code == 200
    await inbound_tap.next()


def sent_text(request: ReceivedRequest) -> str:
    return str(json.loads(request.body)["text"]["body"])


async def test_verification_handshake_echoes_the_challenge_only_for_the_verify_token(
    ingress: RunningParley, provider: dict[str, Any]
) -> None:
    url = provider["inbound_url"]
    async with httpx.AsyncClient(timeout=30) as client:
        ok = await client.get(url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                           "hub.challenge": "1158201444"})
        assert (ok.status_code, ok.text) == (200, "1158201444")
        for params in [{"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
                       {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
                       {"hub.challenge": "1"}]:
            refused = await client.get(url, params=params)
            assert refused.status_code == 403, refused.text
            assert "1" != refused.text


async def test_signed_text_and_media_messages_are_published_as_inbound_whatsapp_messages(
    ingress: RunningParley, provider: dict[str, Any], graph: FakeProviderApi, inbound_tap: InboundTap
) -> None:
    serve_media(graph)
    text = text_message("Hola, I need help")
    image = image_message("my receipt")
    response = await post_webhook(provider["inbound_url"], webhook(messages=[text, image]))
    assert response.status_code == 200, response.text

    first, second = [envelope_of(message) for message in await inbound_tap.take(2)]
    assert first["account_sid"] == ingress.account.sid
    assert first["payload"] | {"received_at": None} == {
        "provider_sid": provider["sid"], "channel": "whatsapp", "channel_message_sid": text["id"],
        "from_address": CUSTOMER, "to_address": NUMBER, "body": "Hola, I need help", "media": [],
        "profile_name": "Ada", "received_at": None,
    }
    assert second["payload"]["body"] == "my receipt"
    (media,) = second["payload"]["media"]
    assert media["url"] == f"{graph.url}/{MEDIA_ID}" and media["content_type"] == "image/jpeg"
    assert media["size"] == len(PHOTO) and media["error"] is None
    # The bytes are in the blob store the conversations service reads; only their key was on the broker.
    assert await LocalDirectoryBlobStore(ingress.settings.media_directory).get(media["blob_key"]) == PHOTO
    # Meta retries a webhook it did not see answered: the same wamid is the same broker message.
    assert (await post_webhook(provider["inbound_url"], webhook(messages=[text]))).status_code == 200
    assert envelope_of(await inbound_tap.next())["message_id"] == first["message_id"]


async def test_a_wrong_or_missing_hub_signature_is_403_and_publishes_nothing(
    ingress: RunningParley, provider: dict[str, Any], inbound_tap: InboundTap
) -> None:
    body = webhook(messages=[text_message("forged")])
    for response in [
        await post_webhook(provider["inbound_url"], body, secret="not-the-app-secret"),
        await post_webhook(provider["inbound_url"], body, signature=hub_signature(b"other body", APP_SECRET)),
        await post_webhook(provider["inbound_url"], body, secret=None),
    ]:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == 57012
    assert (await post_webhook(provider["inbound_url"], webhook(messages=[text_message("genuine")]))).status_code == 200
    assert envelope_of(await inbound_tap.next())["payload"]["body"] == "genuine"
    assert await inbound_tap.is_empty()


async def test_a_reply_inside_the_window_goes_to_the_graph_api_and_statuses_become_receipts(
    ingress: RunningParley, provider: dict[str, Any], graph: FakeProviderApi, inbound_tap: InboundTap,
    receipt_tap: InboundTap,
) -> None:
    await open_window(provider, inbound_tap)
    command = send_command(from_address=NUMBER, to_address=CUSTOMER, body="Hello Ada, how can I help?")
    await publish_send(ingress, command)

    (request,) = await graph.wait_for(1)
    assert request.path == f"/{PHONE_NUMBER_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert json.loads(request.body) == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER_WA_ID, "type": "text",
        "text": {"preview_url": False, "body": "Hello Ada, how can I help?"},
    }
    wamid = graph.sids()[0]
    statuses = [{"id": wamid, "status": status, "timestamp": "1764060100", "recipient_id": CUSTOMER_WA_ID}
                for status in ("sent", "delivered", "read")]
    assert (await post_webhook(provider["inbound_url"], webhook(statuses=statuses))).status_code == 200
    receipts = [envelope_of(message)["payload"] for message in await receipt_tap.take(3)]
    assert [(r["status"], r["channel_message_sid"], r["message_sid"]) for r in receipts] == [
        (status, wamid, command.message_sid) for status in ("sent", "delivered", "read")]


async def test_a_free_form_message_outside_the_window_fails_clearly_and_a_template_goes(
    ingress: RunningParley, provider: dict[str, Any], graph: FakeProviderApi, receipt_tap: InboundTap
) -> None:
    free_form = send_command(from_address=NUMBER, to_address=CUSTOMER, body="Are you still there?")
    await publish_send(ingress, free_form)
    receipt = envelope_of(await receipt_tap.next())["payload"]
    assert (receipt["status"], receipt["error_code"], receipt["message_sid"]) == ("failed", 63016, free_form.message_sid)
    assert graph.arrivals == []

    outreach = send_command(from_address=NUMBER, to_address=CUSTOMER, content_sid="order_update:es_MX")
    await publish_send(ingress, outreach)
    (request,) = await graph.wait_for(1)
    sent = json.loads(request.body)
    assert (sent["type"], sent["template"]) == ("template", {"name": "order_update", "language": {"code": "es_MX"}})


async def test_a_graph_api_error_fails_the_send_with_twilios_code_for_it(
    ingress: RunningParley, provider: dict[str, Any], graph: FakeProviderApi, inbound_tap: InboundTap,
    receipt_tap: InboundTap,
) -> None:
    await open_window(provider, inbound_tap)
    graph.failures = [(400, {"error": {"message": "(#131026) Message undeliverable", "type": "OAuthException",
                                       "code": 131026, "fbtrace_id": "A1"}})]
    await publish_send(ingress, send_command(from_address=NUMBER, to_address=CUSTOMER, body="hello?"))
    receipt = envelope_of(await receipt_tap.next())["payload"]
    assert (receipt["status"], receipt["error_code"]) == ("failed", 30003)  # Meta's "undeliverable"
    assert receipt["channel_message_sid"] is None
    assert len(graph.arrivals) == 1


async def test_graph_500_twice_then_success_is_sent_once(
    ingress: RunningParley, provider: dict[str, Any], graph: FakeProviderApi, inbound_tap: InboundTap,
    receipt_tap: InboundTap,
) -> None:
    await open_window(provider, inbound_tap)
    unavailable = {"error": {"message": "Service temporarily unavailable", "type": "OAuthException", "code": 2}}
    graph.failures = [(500, unavailable), (500, unavailable)]
    await publish_send(ingress, send_command(from_address=NUMBER, to_address=CUSTOMER, body="third time lucky"))
    await graph.wait_for(1)
    assert [arrival.status for arrival in graph.arrivals] == [500, 500, 200]
    # Sends of one sender go in order, so once a later one arrived, no duplicate of the first is coming.
    await publish_send(ingress, send_command(from_address=NUMBER, to_address=CUSTOMER, body="sentinel"))
    await graph.wait_for(1, where=lambda request: sent_text(request) == "sentinel")
    assert [sent_text(request) for request in graph.accepted()] == ["third time lucky", "sentinel"]
    assert await receipt_tap.is_empty()  # the failures that were retried reported nothing


async def test_the_same_send_command_delivered_twice_is_sent_once(
    ingress: RunningParley, provider: dict[str, Any], graph: FakeProviderApi, inbound_tap: InboundTap
) -> None:
    await open_window(provider, inbound_tap)
    command = send_command(from_address=NUMBER, to_address=CUSTOMER, body="just once")
    envelope = await publish_send(ingress, command)
    await publish_send(ingress, command, envelope)
    await publish_send(ingress, send_command(from_address=NUMBER, to_address=CUSTOMER, body="sentinel"))
    await graph.wait_for(1, where=lambda request: sent_text(request) == "sentinel")
    assert [sent_text(request) for request in graph.accepted()] == ["just once", "sentinel"]


async def test_graph_down_fails_the_message_and_parks_the_send_with_the_error(
    ingress: RunningParley, inbound_tap: InboundTap, receipt_tap: InboundTap, dead_tap: InboundTap
) -> None:
    down = await create_cloud_provider(ingress, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    await open_window(down, inbound_tap)
    command = send_command(from_address=NUMBER, to_address=CUSTOMER, body="nobody home")
    await publish_send(ingress, command)

    receipt = envelope_of(await receipt_tap.next())["payload"]
    assert (receipt["status"], receipt["error_code"]) == ("failed", 90110)
    assert (receipt["message_sid"], receipt["participant_sid"]) == (command.message_sid, command.participant_sid)
    by_key = {message.routing_key: message for message in await dead_tap.take(2)}
    dead = by_key["dead.ingress.sends"]
    assert envelope_of(dead)["payload"]["message_sid"] == command.message_sid
    failure = envelope_of(by_key["failure.ingress.sends"])["payload"]
    assert failure["failed_message_id"] == envelope_of(dead)["message_id"]
    assert "Provider unreachable" in failure["error"]


async def test_an_inbound_image_is_stored_as_the_conversation_messages_media(
    launch: Any, graph: FakeProviderApi
) -> None:
    parley: RunningParley = await launch()
    serve_media(graph)
    provider = await create_cloud_provider(parley, graph.url)
    async with parley.client() as client:
        configured = await client.post("/conversations/v1/Configuration/Addresses", data={
            "Type": "whatsapp", "Address": NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "default"})
        assert configured.status_code == 201, configured.text
        posted = await post_webhook(provider["inbound_url"], webhook(messages=[image_message("my receipt")]))
        assert posted.status_code == 200, posted.text
        conversation, (message,) = await the_conversation(client)
        (media,) = message["media"]
        content = await client.get(
            f"/mcs/v1/Services/{conversation['chat_service_sid']}/Media/{media['sid']}/Content")

    assert (message["body"], message["author"]) == ("my receipt", CUSTOMER)
    assert (media["content_type"], media["size"]) == ("image/jpeg", len(PHOTO))
    assert (content.status_code, content.content) == (200, PHOTO)
