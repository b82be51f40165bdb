"""Signed provider callbacks: an inbound message is on the broker, confirmed, before the provider hears 200."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest
from twilio.request_validator import RequestValidator

from services.ingress.app import SERVICE as INGRESS
from shared.broker.topology import CONVERSATIONS_INBOUND, INBOUND
from shared.contracts.ingress import INBOUND_MESSAGE
from shared.runtime import free_port
from shared.settings import Settings
from shared.signatures import twilio_signature
from tests.conftest import StartParley
from tests.ingress.carrier import CARRIER_AUTH_TOKEN, CUSTOMER, create_provider, inbound_sms, post_signed
from tests.ingress.inbound_tap import InboundTap, envelope_of
from tests.support.infrastructure import Infrastructure
from tests.support.parley import RunningParley
from tests.support.parley import test_settings as isolated_settings
from tests.support.waiting import eventually

NUMBER = "+15550001111"
WHATSAPP_NUMBER = "whatsapp:+15550001111"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


async def provider_for(ingress: RunningParley, *addresses: str, **extra: Any) -> dict[str, Any]:
    async with ingress.client() as client:
        return await create_provider(client, *addresses, **extra)


def assert_twilio_error(response: httpx.Response, status: int, code: int, mentions: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body == {"code": code, "message": body["message"], "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status}
    assert mentions in body["message"]


async def test_signing_in_these_tests_matches_twilios_request_validator(ingress: RunningParley) -> None:
    provider = await provider_for(ingress, NUMBER)
    form = inbound_sms(to=NUMBER, body="héllo & goodbye + more")
    validator = RequestValidator(CARRIER_AUTH_TOKEN)
    ours = twilio_signature(provider["inbound_url"], list(form.items()), CARRIER_AUTH_TOKEN)
    assert validator.validate(provider["inbound_url"], form, ours)
    # And the other way round: what Twilio's own library computes, ingress accepts.
    theirs = validator.compute_signature(provider["inbound_url"], form)
    response = await post_signed(provider["inbound_url"], form, signature=theirs)
    assert response.status_code == 200, response.text


async def test_signed_inbound_sms_is_published_as_one_inbound_message(
    ingress: RunningParley, inbound_tap: InboundTap
) -> None:
    provider = await provider_for(ingress, NUMBER)
    form = inbound_sms(to=NUMBER, body="I need help with my order")
    before = datetime.now(UTC) - timedelta(seconds=1)
    response = await post_signed(provider["inbound_url"], form)
    assert response.status_code == 200, response.text
    assert response.text == EMPTY_TWIML
    assert response.headers["content-type"].startswith("text/xml")

    message = await inbound_tap.next()
    envelope = envelope_of(message)
    # The broker's message id is the envelope's: the key the consumer deduplicates by.
    assert message.message_id == envelope["message_id"]
    assert message.routing_key == INBOUND_MESSAGE
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert envelope["type"] == INBOUND_MESSAGE
    assert envelope["account_sid"] == ingress.account.sid
    payload = envelope["payload"]
    assert payload == {
        "provider_sid": provider["sid"], "channel": "sms", "channel_message_sid": form["MessageSid"],
        "from_address": CUSTOMER, "to_address": NUMBER, "body": "I need help with my order", "media": [],
        "profile_name": None, "received_at": payload["received_at"],
    }
    assert before <= datetime.fromisoformat(payload["received_at"]) <= datetime.now(UTC)
    assert await inbound_tap.is_empty()


async def test_whatsapp_message_carries_channel_media_and_profile_name(
    ingress: RunningParley, inbound_tap: InboundTap
) -> None:
    provider = await provider_for(ingress, WHATSAPP_NUMBER)
    gone = f"http://127.0.0.1:{free_port()}"  # nothing listens: the files cannot be fetched
    form = inbound_sms(
        to=WHATSAPP_NUMBER, from_=f"whatsapp:{CUSTOMER}", body="see photos", NumMedia="2", ProfileName="Ada",
        MediaUrl0=f"{gone}/one.jpg", MediaContentType0="image/jpeg",
        MediaUrl1=f"{gone}/two.png", MediaContentType1="image/png", WaId=CUSTOMER.lstrip("+"),
    )
    assert (await post_signed(provider["inbound_url"], form)).status_code == 200
    payload = envelope_of(await inbound_tap.next())["payload"]
    assert payload["channel"] == "whatsapp"
    assert payload["from_address"] == f"whatsapp:{CUSTOMER}"
    assert payload["to_address"] == WHATSAPP_NUMBER
    assert payload["profile_name"] == "Ada"
    # A file that could not be fetched does not hold the message back: it goes on, the failure said on the item.
    assert [(item["url"], item["content_type"], item["blob_key"]) for item in payload["media"]] == [
        (f"{gone}/one.jpg", "image/jpeg", None), (f"{gone}/two.png", "image/png", None),
    ]
    assert all(item["error"].startswith("Media could not be fetched") for item in payload["media"])


async def test_a_retried_message_sid_is_the_same_broker_message(ingress: RunningParley, inbound_tap: InboundTap) -> None:
    provider = await provider_for(ingress, NUMBER)
    form = inbound_sms(to=NUMBER, body="only once, please")
    statuses = [(await post_signed(provider["inbound_url"], form)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    messages = await inbound_tap.take(3)
    assert len({message.message_id for message in messages}) == 1
    assert {envelope_of(message)["message_id"] for message in messages} == {messages[0].message_id}
    # Another message of the same customer is another broker message.
    assert (await post_signed(provider["inbound_url"], inbound_sms(to=NUMBER, body="second"))).status_code == 200
    assert (await inbound_tap.next()).message_id != messages[0].message_id


async def test_the_same_message_sid_from_two_providers_is_two_messages(
    ingress: RunningParley, inbound_tap: InboundTap
) -> None:
    first = await provider_for(ingress, NUMBER)
    second = await provider_for(ingress, "+15550002222")
    message_sid = "SM" + uuid.uuid4().hex
    assert (await post_signed(first["inbound_url"], inbound_sms(to=NUMBER, message_sid=message_sid))).status_code == 200
    assert (await post_signed(second["inbound_url"],
                              inbound_sms(to="+15550002222", message_sid=message_sid))).status_code == 200
    one, two = await inbound_tap.take(2)
    assert one.message_id != two.message_id


async def test_bad_or_missing_signature_is_403_and_publishes_nothing(
    ingress: RunningParley, inbound_tap: InboundTap
) -> None:
    provider = await provider_for(ingress, NUMBER)
    url = provider["inbound_url"]
    form = inbound_sms(to=NUMBER, body="forged")
    tampered = twilio_signature(url, list(inbound_sms(to=NUMBER, body="original").items()), CARRIER_AUTH_TOKEN)
    async with httpx.AsyncClient() as client:
        unsigned = await client.post(url, data=form)
    for response in [
        await post_signed(url, form, auth_token="not-the-carrier-token"),
        await post_signed(url, form, signature=tampered),
        await post_signed(url, form, signed_url=url + "?extra=1"),
        unsigned,
    ]:
        assert_twilio_error(response, 403, 57012, "Signature")
    # The next message through is the first one on the broker: none of the refused ones got there.
    sentinel = inbound_sms(to=NUMBER, body="genuine")
    assert (await post_signed(url, sentinel)).status_code == 200
    assert envelope_of(await inbound_tap.next())["payload"]["body"] == "genuine"
    assert await inbound_tap.is_empty()


@pytest.mark.parametrize(("drop", "change", "mentions"), [
    ("From", {}, "From"),
    ("To", {}, "To"),
    ("MessageSid", {"SmsMessageSid": "", "SmsSid": ""}, "MessageSid"),
    (None, {"To": "+15559999999"}, "+15559999999"),
])
async def test_incomplete_inbound_is_a_twilio_style_400_and_publishes_nothing(
    ingress: RunningParley, inbound_tap: InboundTap, drop: str | None, change: dict[str, str], mentions: str
) -> None:
    provider = await provider_for(ingress, NUMBER)
    form = {**inbound_sms(to=NUMBER, body="incomplete"), **change}
    if drop is not None:
        del form[drop]
    assert_twilio_error(await post_signed(provider["inbound_url"], form), 400, 20001, mentions)
    assert (await post_signed(provider["inbound_url"], inbound_sms(to=NUMBER, body="complete"))).status_code == 200
    assert envelope_of(await inbound_tap.next())["payload"]["body"] == "complete"
    assert await inbound_tap.is_empty()


async def test_unknown_provider_is_404(ingress: RunningParley) -> None:
    async with ingress.client() as client:
        response = await client.post("/parley/v1/Providers", data={
            "Type": "whatsapp_cloud", "Addresses": NUMBER, "Credentials.AppSecret": "meta-secret"})
        assert response.status_code == 201, response.text
        whatsapp = response.json()
    base = f"{ingress.base_url}/ingress/providers"
    form = inbound_sms(to=NUMBER)
    for url in [
        f"{base}/PV{uuid.uuid4().hex}/messages",
        f"{base}/not-a-sid/messages",
        f"{base}/PV{uuid.uuid4().hex}/status",
        # A WhatsApp Cloud connection is not called in Twilio's format.
        f"{base}/{whatsapp['sid']}/messages",
    ]:
        assert_twilio_error(await post_signed(url, form), 404, 20404)


async def test_deleted_provider_and_rotated_token_apply_to_callbacks_at_once(
    ingress: RunningParley, inbound_tap: InboundTap
) -> None:
    provider = await provider_for(ingress, NUMBER)
    url = provider["inbound_url"]
    assert (await post_signed(url, inbound_sms(to=NUMBER))).status_code == 200  # now in the lookup cache
    async with ingress.client() as client:
        rotated = await client.post(provider["url"], data={"Credentials.AuthToken": "rotated-token-0002",
                                                           "Addresses": [NUMBER, "+15550003333"]})
        assert rotated.status_code == 200, rotated.text
        assert_twilio_error(await post_signed(url, inbound_sms(to=NUMBER)), 403, 57012)
        new_address = inbound_sms(to="+15550003333")
        assert (await post_signed(url, new_address, auth_token="rotated-token-0002")).status_code == 200
        assert (await client.delete(provider["url"])).status_code == 204
    assert_twilio_error(await post_signed(url, inbound_sms(to=NUMBER), auth_token="rotated-token-0002"), 404, 20404)
    _, second = await inbound_tap.take(2)
    assert envelope_of(second)["payload"]["to_address"] == "+15550003333"
    assert await inbound_tap.is_empty()


async def test_signature_is_checked_against_the_public_base_url(
    launch: StartParley, infra: Infrastructure, settings: Settings
) -> None:
    # Behind a proxy the carrier calls https://parley.example.com/…; ingress sees 127.0.0.1 yet must check that URL.
    public = isolated_settings(infra, PUBLIC_BASE_URL="https://parley.example.com",
                           PARLEY_SCHEMA_PREFIX=settings.schema_prefix, PARLEY_BROKER_PREFIX=settings.broker_prefix)
    ingress = await launch([INGRESS], settings=public)
    provider = await provider_for(ingress, NUMBER)
    assert provider["inbound_url"] == f"https://parley.example.com/ingress/providers/{provider['sid']}/messages"
    local_url = f"{ingress.base_url}/ingress/providers/{provider['sid']}/messages"
    async with InboundTap(public.amqp_url, public.broker_name(INBOUND)) as tap:
        form = inbound_sms(to=NUMBER, body="via the proxy")
        assert (await post_signed(local_url, form, signed_url=provider["inbound_url"])).status_code == 200
        assert_twilio_error(await post_signed(local_url, inbound_sms(to=NUMBER)), 403, 57012)
        assert envelope_of(await tap.next())["payload"]["body"] == "via the proxy"
        assert await tap.is_empty()


async def test_an_unqueueable_message_is_503_so_the_provider_retries(ingress: RunningParley) -> None:
    provider = await provider_for(ingress, NUMBER)
    settings = ingress.settings
    queue_name = settings.broker_name(CONVERSATIONS_INBOUND.name)
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        # With its only queue gone, the inbound exchange routes nowhere: the broker would drop the message.
        await channel.queue_delete(queue_name)
        form = inbound_sms(to=NUMBER, body="retry me")
        assert_twilio_error(await post_signed(provider["inbound_url"], form), 503, 20503)

        await ingress.runtime.broker.declare([CONVERSATIONS_INBOUND])
        assert (await post_signed(provider["inbound_url"], form)).status_code == 200
        queue = await channel.declare_queue(queue_name, passive=True)
        message = await queue.get(no_ack=True, fail=False)
        assert message is not None
        assert envelope_of(message)["payload"]["body"] == "retry me"
        assert await queue.get(no_ack=True, fail=False) is None
    finally:
        await connection.close()


async def test_status_callback_is_verified_and_acknowledged(ingress: RunningParley, inbound_tap: InboundTap) -> None:
    provider = await provider_for(ingress, NUMBER)
    url = provider["status_callback_url"]
    status = {"MessageSid": "SM" + uuid.uuid4().hex, "MessageStatus": "delivered", "AccountSid": "AC" + "2" * 32,
              "From": NUMBER, "To": CUSTOMER, "ApiVersion": "2010-04-01"}
    accepted = await post_signed(url, status)
    assert accepted.status_code == 204, accepted.text
    assert accepted.content == b""
    assert_twilio_error(await post_signed(url, status, auth_token="not-the-carrier-token"), 403, 57012)
    assert_twilio_error(await post_signed(url, {**status, "MessageStatus": ""}), 400, 20001, "MessageStatus")
    assert_twilio_error(await post_signed(url, {k: v for k, v in status.items() if k != "MessageSid"}), 400, 20001,
                        "MessageSid")
    assert await inbound_tap.is_empty()


async def test_a_provider_changed_or_deleted_through_another_replica_takes_effect_within_the_cache_ttl(
    launch: StartParley, settings: Settings
) -> None:
    """The last record read is kept for outages only: while the database answers, another replica's change is
    seen once the record's TTL is past, however many callbacks the old record served."""
    brief = settings.model_copy(update={"provider_cache_seconds": 0.2})
    first = await launch([INGRESS], settings=brief)
    second = await launch([INGRESS], settings=brief.model_copy(update={"port": free_port()}))
    provider = await provider_for(first, NUMBER)
    at_second = provider["inbound_url"].replace(first.base_url, second.base_url)
    assert (await post_signed(at_second, inbound_sms(to=NUMBER))).status_code == 200  # the second read the record

    async with first.client() as client:
        changed = await client.post(f"/parley/v1/Providers/{provider['sid']}",
                                    data={"Credentials.AuthToken": "the-new-auth-token"})
        assert changed.status_code == 200, changed.text

    async def with_new_token() -> int:
        return (await post_signed(at_second, inbound_sms(to=NUMBER), auth_token="the-new-auth-token")).status_code
    await eventually(with_new_token, until=lambda status: status == 200, what="the new token taken by the second")
    assert (await post_signed(at_second, inbound_sms(to=NUMBER))).status_code == 403  # the old one no longer

    async with first.client() as client:
        assert (await client.delete(f"/parley/v1/Providers/{provider['sid']}")).status_code == 204
    await eventually(with_new_token, until=lambda status: status == 404, what="the deletion seen by the second")
