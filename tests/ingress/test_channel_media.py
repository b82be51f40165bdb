"""Media in and out. Inbound MMS media: ingress fetches each file with the provider's credentials into the blob store, the
conversation message lists them (type, size, temporary link) and their bytes download as the carrier served them.
Outbound: an agent's message with media reaches the carrier with MediaUrls it can download."""

import base64
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.responses import JSONResponse, RedirectResponse, Response

from tests.ingress.carrier import (
    CARRIER_ACCOUNT_SID,
    CARRIER_AUTH_TOKEN,
    CUSTOMER,
    create_provider,
    inbound_sms,
    post_signed,
)
from tests.ingress.stored_inbound import the_conversation
from tests.support.parley import RunningParley
from tests.support.receiver import ReceivedRequest, Receiver

NUMBER = "+15550001111"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 300 + b"\xff\xd9"
BASIC = "Basic " + base64.b64encode(f"{CARRIER_ACCOUNT_SID}:{CARRIER_AUTH_TOKEN}".encode()).decode()


def storage_files(request: ReceivedRequest) -> Response | None:
    return Response(JPEG, media_type="image/jpeg") if request.path == "/storage/abc123" else Response(status_code=404)


def carrier_media(storage: Receiver) -> Callable[[ReceivedRequest], Response | None]:
    """Twilio's media URLs: the bytes for the account's credentials only; the second one redirects, as Twilio's
    do, to another host's storage URL that needs no credentials."""
    def respond(request: ReceivedRequest) -> Response | None:
        if request.headers.get("authorization") != BASIC:
            return Response(status_code=401)
        if request.path.endswith("/Media/ME0"):
            return Response(PNG, media_type="image/png")
        if request.path.endswith("/Media/ME1"):
            return RedirectResponse(f"{storage.url}/storage/abc123?X-Amz-Signature=x", status_code=307)
        return Response(status_code=404)
    return respond


@pytest.fixture
async def storage() -> AsyncIterator[Receiver]:
    files = Receiver(responder=storage_files)
    await files.start()
    yield files
    await files.stop()


async def configure(parley: RunningParley, client: httpx.AsyncClient) -> dict[str, Any]:
    provider = await create_provider(client, NUMBER)
    response = await client.post("/conversations/v1/Configuration/Addresses", data={
        "Type": "sms", "Address": NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "default",
    })
    assert response.status_code == 201, response.text
    return provider


async def test_inbound_mms_with_two_images_becomes_a_message_with_two_media_whose_bytes_match(
    launch: Any, receiver: Receiver, storage: Receiver
) -> None:
    parley: RunningParley = await launch()
    receiver.responder = carrier_media(storage)
    media_base = f"{receiver.url}/2010-04-01/Accounts/{CARRIER_ACCOUNT_SID}/Messages/MM1/Media"
    async with parley.client() as client:
        provider = await configure(parley, client)
        form = inbound_sms(to=NUMBER, body="two photos", NumMedia="2",
                           MediaUrl0=f"{media_base}/ME0", MediaContentType0="image/png",
                           MediaUrl1=f"{media_base}/ME1", MediaContentType1="image/jpeg")
        assert (await post_signed(provider["inbound_url"], form)).status_code == 200
        conversation, (message,) = await the_conversation(client)

    assert message["body"] == "two photos" and message["author"] == CUSTOMER
    media = message["media"]
    assert [(item["content_type"], item["size"]) for item in media] == [("image/png", len(PNG)),
                                                                         ("image/jpeg", len(JPEG))]
    async with httpx.AsyncClient() as anonymous:  # the temporary links need no credentials
        downloaded = [await anonymous.get(item["links"]["content_direct_temporary"]) for item in media]
    assert [(response.status_code, response.content) for response in downloaded] == [(200, PNG), (200, JPEG)]
    assert downloaded[0].headers["content-type"] == "image/png"
    async with parley.client() as client:  # and through the Media Content Service with account credentials
        fetched = await client.get(
            f"/mcs/v1/Services/{conversation['chat_service_sid']}/Media/{media[1]['sid']}/Content")
    assert fetched.status_code == 200 and fetched.content == JPEG
    # The storage URL a redirect names is asked without the provider's credentials.
    assert len(storage.requests) == 1 and "authorization" not in storage.requests[0].headers


async def test_a_file_that_cannot_be_fetched_leaves_the_message_and_its_other_files(
    launch: Any, receiver: Receiver, storage: Receiver
) -> None:
    parley: RunningParley = await launch()
    receiver.responder = carrier_media(storage)
    media_base = f"{receiver.url}/2010-04-01/Accounts/{CARRIER_ACCOUNT_SID}/Messages/MM2/Media"
    async with parley.client() as client:
        provider = await configure(parley, client)
        form = inbound_sms(to=NUMBER, body="one good, one gone", NumMedia="2",
                           MediaUrl0=f"{media_base}/ME0", MediaContentType0="image/png",
                           MediaUrl1=f"{media_base}/GONE", MediaContentType1="image/jpeg")
        assert (await post_signed(provider["inbound_url"], form)).status_code == 200
        _, (message,) = await the_conversation(client)
    assert message["body"] == "one good, one gone"
    assert [(item["content_type"], item["size"]) for item in message["media"]] == [("image/png", len(PNG))]


async def test_an_agent_message_with_media_reaches_the_carrier_with_media_urls_whose_bytes_download(
    launch: Any, receiver: Receiver
) -> None:
    parley: RunningParley = await launch()
    receiver.responder = lambda request: JSONResponse({"sid": "SM" + "7" * 32, "status": "queued"}, status_code=201)
    async with parley.client() as client:
        await create_provider(client, NUMBER, ApiBaseUrl=receiver.url)
        conversation = (await client.post("/conversations/v1/Conversations", data={"FriendlyName": "out"})).json()
        base = f"/conversations/v1/Conversations/{conversation['sid']}"
        added = await client.post(f"{base}/Participants", data={
            "MessagingBinding.Address": CUSTOMER, "MessagingBinding.ProxyAddress": NUMBER})
        assert added.status_code == 201, added.text
        service = conversation["chat_service_sid"]
        uploaded = []
        for data, content_type in ((PNG, "image/png"), (JPEG, "image/jpeg")):
            response = await client.post(f"/mcs/v1/Services/{service}/Media", content=data,
                                         headers={"Content-Type": content_type})
            assert response.status_code == 201, response.text
            uploaded.append(response.json()["sid"])
        sent = await client.post(f"{base}/Messages", data={"Author": "agent-1", "Body": "your receipts",
                                                           "MediaSid": uploaded})
        assert sent.status_code == 201, sent.text
        (request,) = await receiver.wait_for(1, where=lambda r: r.path.endswith("/Messages.json"))

    assert request.field("To") == CUSTOMER and request.field("From") == NUMBER
    assert request.field("Body") == "your receipts"
    urls = [value for key, value in request.params if key == "MediaUrl"]
    assert len(urls) == 2
    async with httpx.AsyncClient() as carrier:  # the provider fetches them without credentials
        downloaded = [await carrier.get(url) for url in urls]
    assert [(response.status_code, response.content) for response in downloaded] == [(200, PNG), (200, JPEG)]
    # Valid through the whole send retry budget, not only the few minutes of a client's temporary link.
    expires = int(parse_qs(urlsplit(urls[0]).query)["Expires"][0])
    assert expires - time.time() > parley.settings.outbound_media_url_lifetime_seconds - 60


async def test_an_inbound_file_a_browser_could_run_downloads_sandboxed(launch: Any, receiver: Receiver) -> None:
    """A customer's MMS carrying HTML (the carrier says so, or says nothing) never renders on Parley's origin."""
    parley: RunningParley = await launch()
    page = b"<html><script>document.title = 'ran'</script></html>"
    receiver.responder = lambda request: Response(page, media_type="text/html")
    async with parley.client() as client:
        provider = await configure(parley, client)
        form = inbound_sms(to=NUMBER, body="see attached", NumMedia="1",
                           MediaUrl0=f"{receiver.url}/2010-04-01/Accounts/{CARRIER_ACCOUNT_SID}/Messages/MM2/Media/ME0",
                           MediaContentType0="text/html")
        assert (await post_signed(provider["inbound_url"], form)).status_code == 200
        conversation, (message,) = await the_conversation(client)
        (item,) = message["media"]
        account_read = await client.get(
            f"/mcs/v1/Services/{conversation['chat_service_sid']}/Media/{item['sid']}/Content")
    async with httpx.AsyncClient() as anonymous:
        direct = await anonymous.get(item["links"]["content_direct_temporary"])
    for answer in (account_read, direct):
        assert answer.status_code == 200 and answer.content == page
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-disposition"].startswith("attachment")
        assert answer.headers["content-security-policy"] == "sandbox"
