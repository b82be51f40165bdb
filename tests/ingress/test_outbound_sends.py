"""Outbound sends: a send command reaches the provider's REST API once, retried, paced, parked with its error."""

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from services.ingress import store
from services.ingress.app import SERVICE as INGRESS
from services.ingress.domain.sends import ANSWER_NOT_RECORDED, FAILED, OUTCOME_UNKNOWN, Send
from shared.broker.topology import INBOUND
from shared.contracts.channels import DELIVERY_RECEIPT, OutboundMessage
from shared.db import create_pool
from shared.runtime import free_port
from shared.settings import Settings
from tests.ingress.carrier import CARRIER_ACCOUNT_SID, CARRIER_AUTH_TOKEN, create_provider, post_signed
from tests.ingress.inbound_tap import InboundTap, envelope_of
from tests.ingress.provider_api import FakeProviderApi, publish_send, send_command
from tests.support.parley import RunningParley, start_parley
from tests.support.receiver import Receiver
from tests.support.waiting import eventually

NUMBER = "+15550001111"
OTHER_NUMBER = "+15550002222"
WHATSAPP_NUMBER = "whatsapp:+15550003333"
CUSTOMER = "+15557654321"


@pytest.fixture
async def provider_api(receiver: Receiver) -> FakeProviderApi:
    return FakeProviderApi(receiver)


async def carrier(ingress: RunningParley, api_base_url: str, *addresses: str) -> dict[str, Any]:
    async with ingress.client() as client:
        return await create_provider(client, *addresses, ApiBaseUrl=api_base_url)


def messages_path() -> str:
    return f"/2010-04-01/Accounts/{CARRIER_ACCOUNT_SID}/Messages.json"


@pytest.fixture
async def send_records(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """Reads ingress's send records: whether a send is parked, and after how many attempts."""
    pool = await create_pool(settings.database_url, schema=settings.schema_name(INGRESS.name), max_size=2)
    yield pool
    await pool.close()


async def record_of(records: asyncpg.Pool, command: OutboundMessage) -> Send | None:
    return await store.get_send(records, message_sid=command.message_sid, participant_sid=command.participant_sid)


async def next_receipt(tap: InboundTap) -> dict[str, Any]:
    message = await tap.next()
    assert message.routing_key == DELIVERY_RECEIPT
    return envelope_of(message)


async def test_an_agent_reply_reaches_the_provider_once_in_twilio_format(
    ingress: RunningParley, provider_api: FakeProviderApi
) -> None:
    provider = await carrier(ingress, provider_api.url, NUMBER)
    command = send_command(from_address=NUMBER, to_address=CUSTOMER, body="Your order shipped",
                           media_urls=("https://media.example/a.jpg", "https://media.example/b.jpg"))
    envelope = await publish_send(ingress, command)
    # Redelivered as is, and commanded again under another message id: still one send per message and participant.
    await publish_send(ingress, command, envelope)
    await publish_send(ingress, command)

    (request,) = await provider_api.wait_for(1)
    assert request.method == "POST"
    assert request.path == messages_path()
    assert request.headers["authorization"] == "Basic " + base64.b64encode(
        f"{CARRIER_ACCOUNT_SID}:{CARRIER_AUTH_TOKEN}".encode()).decode()
    assert request.field("From") == NUMBER
    assert request.field("To") == CUSTOMER
    assert request.field("Body") == "Your order shipped"
    assert [value for key, value in request.params if key == "MediaUrl"] == [
        "https://media.example/a.jpg", "https://media.example/b.jpg"]
    assert request.field("StatusCallback") == provider["status_callback_url"]

    # Sends of one sender go in order, so once a later one arrived, no duplicate of the first is coming.
    await publish_send(ingress, send_command(from_address=NUMBER, to_address=CUSTOMER, body="sentinel"))
    await provider_api.wait_for(1, where=lambda r: r.field("Body") == "sentinel")
    assert [r.field("Body") for r in provider_api.accepted()] == ["Your order shipped", "sentinel"]


async def test_provider_500_twice_then_201_is_sent_once(
    ingress: RunningParley, provider_api: FakeProviderApi, receipt_tap: InboundTap
) -> None:
    provider = await carrier(ingress, provider_api.url, NUMBER)
    provider_api.failures = [(500, {"code": 20500, "message": "Internal error"}), (503, {})]
    command = send_command(from_address=NUMBER, to_address=CUSTOMER, body="third time lucky")
    await publish_send(ingress, command)
    await provider_api.wait_for(1)
    assert [arrival.status for arrival in provider_api.arrivals] == [500, 503, 201]

    # The provider's `sent` status callback becomes the first receipt: no receipt was published for the failures.
    assert provider_api.accepted()[0].field("Body") == "third time lucky"
    message_sid = provider_api.sids()[0]
    status = {"MessageSid": message_sid, "MessageStatus": "sent", "AccountSid": CARRIER_ACCOUNT_SID}
    assert (await post_signed(provider["status_callback_url"], status)).status_code == 204
    receipt = await next_receipt(receipt_tap)
    assert receipt["payload"]["status"] == "sent"
    assert receipt["payload"]["message_sid"] == command.message_sid
    assert await receipt_tap.is_empty()


async def test_status_callbacks_become_receipts_once_each_and_queued_only_updates_the_record(
    ingress: RunningParley, provider_api: FakeProviderApi, receipt_tap: InboundTap
) -> None:
    provider = await carrier(ingress, provider_api.url, WHATSAPP_NUMBER)
    command = send_command(from_address=WHATSAPP_NUMBER, to_address=f"whatsapp:{CUSTOMER}", body="hi")
    await publish_send(ingress, command)
    await provider_api.wait_for(1)
    sid = provider_api.sids()[0]
    url = provider["status_callback_url"]
    for status in ["queued", "sending", "sent", "delivered", "delivered", "read"]:
        form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": CARRIER_ACCOUNT_SID}
        assert (await post_signed(url, form)).status_code == 204
    receipts = [await next_receipt(receipt_tap) for _ in range(3)]
    assert [r["payload"]["status"] for r in receipts] == ["sent", "delivered", "read"]
    for receipt in receipts:
        assert receipt["account_sid"] == ingress.account.sid
        assert receipt["payload"] | {"reported_at": None} == {
            "conversation_sid": command.conversation_sid, "message_sid": command.message_sid,
            "participant_sid": command.participant_sid, "channel_message_sid": sid,
            "status": receipt["payload"]["status"], "error_code": 0, "reported_at": None,
        }
    # A failure reported later carries the provider's code.
    failed = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30005",
              "AccountSid": CARRIER_ACCOUNT_SID}
    assert (await post_signed(url, failed)).status_code == 204
    receipt = await next_receipt(receipt_tap)
    assert (receipt["payload"]["status"], receipt["payload"]["error_code"]) == ("undelivered", 30005)
    assert await receipt_tap.is_empty()


async def test_a_status_callback_before_the_providers_answer_is_kept_and_applied(
    ingress: RunningParley, provider_api: FakeProviderApi, receipt_tap: InboundTap
) -> None:
    provider = await carrier(ingress, provider_api.url, NUMBER)
    provider_api.receiver.delay_seconds = 1.0  # the 201 is slow; the status callback overtakes it
    command = send_command(from_address=NUMBER, to_address=CUSTOMER, body="race")
    await publish_send(ingress, command)
    await provider_api.wait_for_attempts(1)
    sid = provider_api.sids()[0]
    form = {"MessageSid": sid, "MessageStatus": "sent", "AccountSid": CARRIER_ACCOUNT_SID}
    assert (await post_signed(provider["status_callback_url"], form)).status_code == 204
    receipt = await next_receipt(receipt_tap)
    assert (receipt["payload"]["status"], receipt["payload"]["message_sid"]) == ("sent", command.message_sid)


async def test_provider_down_parks_the_send_with_the_error_visible(
    ingress: RunningParley, receipt_tap: InboundTap, dead_tap: InboundTap
) -> None:
    await carrier(ingress, f"http://127.0.0.1:{free_port()}", NUMBER)  # nothing listens there
    command = send_command(from_address=NUMBER, to_address=CUSTOMER, body="nobody home")
    await publish_send(ingress, command)

    receipt = await next_receipt(receipt_tap)
    assert receipt["payload"]["status"] == "failed"
    assert receipt["payload"]["error_code"] == 90110
    assert receipt["payload"]["message_sid"] == command.message_sid

    # The dead-letter log hears of it: the command, parked from ingress.sends, and why.
    first, second = await dead_tap.take(2)
    by_key = {message.routing_key: message for message in (first, second)}
    dead = by_key["dead.ingress.sends"]
    assert dead.headers["x-first-death-queue"] == "ingress.sends"
    assert envelope_of(dead)["payload"]["message_sid"] == command.message_sid
    failure = envelope_of(by_key["failure.ingress.sends"])["payload"]
    assert failure["failed_message_id"] == envelope_of(dead)["message_id"]
    assert "Provider unreachable" in failure["error"]
    assert failure["delivery_count"] == 3


async def test_a_refused_send_is_parked_at_once_with_the_providers_code(
    ingress: RunningParley, provider_api: FakeProviderApi, receipt_tap: InboundTap
) -> None:
    await carrier(ingress, provider_api.url, NUMBER)
    provider_api.failures = [(400, {"code": 21211, "message": "The 'To' number is not a valid phone number."})]
    await publish_send(ingress, send_command(from_address=NUMBER, to_address=CUSTOMER, body="to nowhere"))
    receipt = await next_receipt(receipt_tap)
    assert (receipt["payload"]["status"], receipt["payload"]["error_code"]) == ("failed", 21211)
    assert receipt["payload"]["channel_message_sid"] is None  # the provider never took it: no id, not ""
    assert len(provider_api.arrivals) == 1  # a 400 is not retried


async def test_a_refusal_without_the_providers_own_code_is_twilios_unknown_error(
    ingress: RunningParley, provider_api: FakeProviderApi, receipt_tap: InboundTap
) -> None:
    await carrier(ingress, provider_api.url, NUMBER)
    provider_api.failures = [(403, {"message": "Forbidden"})]
    await publish_send(ingress, send_command(from_address=NUMBER, to_address=CUSTOMER, body="to nowhere"))
    receipt = await next_receipt(receipt_tap)
    assert (receipt["payload"]["status"], receipt["payload"]["error_code"]) == ("failed", 30008)


async def test_a_send_from_an_address_no_provider_lists_fails_with_a_clear_error(
    ingress: RunningParley, receipt_tap: InboundTap, dead_tap: InboundTap
) -> None:
    await publish_send(ingress, send_command(from_address="+15559990000", to_address=CUSTOMER))
    receipt = await next_receipt(receipt_tap)
    assert (receipt["payload"]["status"], receipt["payload"]["error_code"]) == ("failed", 90112)
    reports = [envelope_of(m) for m in await dead_tap.take(2)]
    assert any("+15559990000" in str(report["payload"].get("error")) for report in reports)


async def test_fifty_sends_on_one_sender_are_paced_while_another_sender_is_not_held_behind(
    ingress: RunningParley, provider_api: FakeProviderApi
) -> None:
    await carrier(ingress, provider_api.url, NUMBER, OTHER_NUMBER)
    for index in range(50):
        await publish_send(ingress, send_command(from_address=NUMBER, to_address=CUSTOMER, body=f"busy {index}"))
    for index in range(5):
        await publish_send(ingress, send_command(from_address=OTHER_NUMBER, to_address=CUSTOMER, body=f"quiet {index}"))

    await provider_api.wait_for(55, timeout=30)
    busy = [a for a in provider_api.arrivals if a.request.field("From") == NUMBER]
    quiet = [a for a in provider_api.arrivals if a.request.field("From") == OTHER_NUMBER]
    assert len(busy) == 50 and len(quiet) == 5
    assert [a.request.field("Body") for a in busy] == [f"busy {index}" for index in range(50)]
    # The other sender's five all arrived while the busy one had sent only a few.
    order = [a.request.field("From") for a in provider_api.arrivals]
    last_quiet = max(i for i, sender in enumerate(order) if sender == OTHER_NUMBER)
    assert order[:last_quiet + 1].count(NUMBER) < 20
    # 50 sends at 10 per second: 49 intervals of 0.1 s between the first and the last.
    assert busy[-1].at - busy[0].at >= 4.5


async def test_replaying_a_parked_send_sends_it_once_with_a_fresh_budget(
    ingress: RunningParley, receipt_tap: InboundTap, dead_tap: InboundTap, receiver: Receiver
) -> None:
    port = free_port()
    await carrier(ingress, f"http://127.0.0.1:{port}", NUMBER)  # down for now
    command = send_command(from_address=NUMBER, to_address=CUSTOMER, body="second chance")
    await publish_send(ingress, command)
    assert (await next_receipt(receipt_tap))["payload"]["status"] == "failed"
    dead = next(m for m in await dead_tap.take(2) if m.routing_key == "dead.ingress.sends")

    # The provider is back; the dead-letter log replays the message to its queue as it was.
    await receiver.stop()
    await receiver.start(port=port)
    provider_api = FakeProviderApi(receiver)
    await ingress.runtime.broker.publish_to_queue("ingress.sends", dead.body, message_id=str(dead.message_id),
                                                  headers={})
    await ingress.runtime.broker.publish_to_queue("ingress.sends", dead.body, message_id=str(dead.message_id),
                                                  headers={})
    (request,) = await provider_api.wait_for(1)
    assert request.field("Body") == "second chance"
    await publish_send(ingress, send_command(from_address=NUMBER, to_address=CUSTOMER, body="sentinel"))
    await provider_api.wait_for(1, where=lambda r: r.field("Body") == "sentinel")
    assert [r.field("Body") for r in provider_api.accepted()] == ["second chance", "sentinel"]


async def test_a_provider_id_given_to_two_sends_parks_the_second_which_the_provider_got_once(
    ingress: RunningParley, provider_api: FakeProviderApi, receipt_tap: InboundTap, dead_tap: InboundTap,
    send_records: asyncpg.Pool,
) -> None:
    provider = await carrier(ingress, provider_api.url, NUMBER)
    reused = "SM" + "d" * 32
    provider_api.sid_for = lambda _: reused
    first = send_command(from_address=NUMBER, to_address=CUSTOMER, body="first")
    await publish_send(ingress, first)
    await provider_api.wait_for(1)
    second = send_command(from_address=NUMBER, to_address=CUSTOMER, body="second")
    await publish_send(ingress, second)

    receipt = (await next_receipt(receipt_tap))["payload"]
    assert (receipt["status"], receipt["error_code"], receipt["message_sid"]) == (
        "failed", ANSWER_NOT_RECORDED, second.message_sid)
    assert receipt["channel_message_sid"] is None
    failure = next(envelope_of(m) for m in await dead_tap.take(2) if m.routing_key == "failure.ingress.sends")
    assert reused in failure["payload"]["error"]
    # The barrier: the second send is parked, so no claim takes it again; the provider got each send once.
    parked = await record_of(send_records, second)
    assert parked is not None and (parked.state, parked.attempts) == (FAILED, 1)
    assert [request.field("Body") for request in provider_api.accepted()] == ["first", "second"]

    # The provider's statuses for that id are the first send's.
    status = {"MessageSid": reused, "MessageStatus": "sent", "AccountSid": CARRIER_ACCOUNT_SID}
    assert (await post_signed(provider["status_callback_url"], status)).status_code == 204
    receipt = (await next_receipt(receipt_tap))["payload"]
    assert (receipt["status"], receipt["message_sid"], receipt["channel_message_sid"]) == (
        "sent", first.message_sid, reused)


async def test_a_send_whose_claims_expire_unanswered_reaches_the_provider_at_most_its_budget_then_is_parked(
    settings: Settings, receiver: Receiver, send_records: asyncpg.Pool,
) -> None:
    """The provider never answers, and each replica dies mid-attempt (stopped while it waits): its claim expires
    and the next replica takes the send back, until its attempts are spent."""
    budget = settings.send_max_attempts
    # The send timeout outlasts the test: an attempt ends only with its replica, its outcome unknown.
    replicas = settings.model_copy(update={"send_claim_timeout_seconds": 0.5, "send_timeout_seconds": 600.0})
    receiver.hold = asyncio.Event()

    async def hits() -> int:
        return len(receiver.attempts)

    replica = await start_parley(replicas, [INGRESS], port=free_port())
    try:
        async with replica.client() as client:
            await create_provider(client, NUMBER, ApiBaseUrl=receiver.url)
        async with InboundTap(settings.amqp_url, settings.broker_name(INBOUND), binding=DELIVERY_RECEIPT) as receipts:
            command = send_command(from_address=NUMBER, to_address=CUSTOMER, body="never answered")
            await publish_send(replica, command)
            for attempt in range(1, budget + 1):
                await eventually(hits, until=lambda count, at_least=attempt: count >= at_least,
                                 what=f"attempt {attempt} at the provider")
                await replica.stop()
                replica = await start_parley(replicas, [INGRESS], port=free_port())

            receipt = (await next_receipt(receipts))["payload"]
            assert (receipt["status"], receipt["error_code"], receipt["message_sid"]) == (
                "failed", OUTCOME_UNKNOWN, command.message_sid)
            assert receipt["channel_message_sid"] is None
        # The barrier: the send is parked, so no replica claims it again.
        parked = await record_of(send_records, command)
        assert parked is not None and (parked.state, parked.attempts) == (FAILED, budget)
        assert await hits() == budget
    finally:
        receiver.hold.set()
        await replica.stop()


async def test_an_answer_that_cannot_be_recorded_parks_the_send_which_the_provider_got_once(
    ingress: RunningParley, provider_api: FakeProviderApi, receipt_tap: InboundTap, dead_tap: InboundTap,
    send_records: asyncpg.Pool,
) -> None:
    await carrier(ingress, provider_api.url, NUMBER)
    provider_api.sid_for = lambda _: "SM" + "e" * 300  # longer than the send record keeps
    command = send_command(from_address=NUMBER, to_address=CUSTOMER, body="unrecordable")
    await publish_send(ingress, command)

    receipt = (await next_receipt(receipt_tap))["payload"]
    assert (receipt["status"], receipt["error_code"], receipt["message_sid"], receipt["channel_message_sid"]) == (
        "failed", ANSWER_NOT_RECORDED, command.message_sid, None)
    failure = next(envelope_of(m) for m in await dead_tap.take(2) if m.routing_key == "failure.ingress.sends")
    assert "could not be recorded" in failure["payload"]["error"]
    # The barrier: the send is parked, so no claim takes it again.
    parked = await record_of(send_records, command)
    assert parked is not None and (parked.state, parked.attempts) == (FAILED, 1)
    assert len(provider_api.arrivals) == 1
