"""An agent's reply through all of Parley and a fake carrier: the provider's status callbacks become the
message's receipts, its delivery summary and `onDeliveryUpdated`; a send the provider never takes is parked
where `/parley/v1/DeadLetters` shows it."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from shared.runtime import free_port
from tests.ingress.carrier import CARRIER_ACCOUNT_SID, create_provider, post_signed
from tests.ingress.provider_api import FakeProviderApi
from tests.support.parley import RunningParley
from tests.support.receiver import Receiver
from tests.support.waiting import eventually

NUMBER, WHATSAPP_NUMBER = "+15550001111", "whatsapp:+15550003333"
CUSTOMER, WHATSAPP_CUSTOMER = "+15557654321", "whatsapp:+15557654322"


@pytest.fixture
async def carrier_api() -> AsyncIterator[FakeProviderApi]:
    """The carrier's REST API, apart from the `receiver` fixture that stands for the business's webhook."""
    server = Receiver()
    await server.start()
    yield FakeProviderApi(server)
    await server.stop()


async def conversation_with(client: httpx.AsyncClient, *bindings: tuple[str, str]) -> tuple[str, list[str]]:
    """A conversation whose customers are reached at (address, proxy address); its sid and theirs."""
    created = await client.post("/conversations/v1/Conversations", data={"FriendlyName": "delivery"})
    assert created.status_code == 201, created.text
    base = f"/conversations/v1/Conversations/{created.json()['sid']}"
    participants = []
    for address, proxy in bindings:
        added = await client.post(f"{base}/Participants", data={
            "MessagingBinding.Address": address, "MessagingBinding.ProxyAddress": proxy})
        assert added.status_code == 201, added.text
        participants.append(added.json()["sid"])
    return base, participants


async def agent_reply(client: httpx.AsyncClient, base: str, body: str) -> dict[str, Any]:
    response = await client.post(f"{base}/Messages", data={"Author": "agent", "Body": body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_status_callbacks_become_receipts_the_delivery_summary_and_on_delivery_updated(
    launch: Any, carrier_api: FakeProviderApi, receiver: Receiver
) -> None:
    parley: RunningParley = await launch()
    async with parley.client() as client:
        provider = await create_provider(client, NUMBER, WHATSAPP_NUMBER, ApiBaseUrl=carrier_api.url)
        base, (sms_sid, whatsapp_sid) = await conversation_with(
            client, (CUSTOMER, NUMBER), (WHATSAPP_CUSTOMER, WHATSAPP_NUMBER))
        hook = await client.post(f"{base}/Webhooks", data={
            "Target": "webhook", "Configuration.Url": f"{receiver.url}/delivery",
            "Configuration.Filters": "onDeliveryUpdated"})
        assert hook.status_code == 201, hook.text
        message = await agent_reply(client, base, "Your order shipped")

        sends = await carrier_api.wait_for(2)
        sid_to = {arrival.request.field("To"): arrival.sid for arrival in carrier_api.arrivals}
        assert sorted((r.field("From"), r.field("To")) for r in sends) == [
            (NUMBER, CUSTOMER), (WHATSAPP_NUMBER, WHATSAPP_CUSTOMER)]
        assert {r.field("StatusCallback") for r in sends} == {provider["status_callback_url"]}
        reports = [(CUSTOMER, "sent"), (WHATSAPP_CUSTOMER, "sent"), (CUSTOMER, "delivered"),
                   (WHATSAPP_CUSTOMER, "delivered"), (WHATSAPP_CUSTOMER, "read")]
        for to, status in reports:
            form = {"MessageSid": str(sid_to[to]), "MessageStatus": status, "AccountSid": CARRIER_ACCOUNT_SID,
                    "From": NUMBER if to == CUSTOMER else WHATSAPP_NUMBER, "To": to}
            assert (await post_signed(provider["status_callback_url"], form)).status_code == 204

        receipts_url = f"{base}/Messages/{message['sid']}/Receipts"

        async def receipts() -> dict[str, dict[str, Any]]:
            listed = (await client.get(receipts_url)).json()["delivery_receipts"]
            return {receipt["participant_sid"]: receipt for receipt in listed}

        found = await eventually(receipts, what="the receipts delivered and read", until=lambda by: (
            by.get(sms_sid, {}).get("status"), by.get(whatsapp_sid, {}).get("status")) == ("delivered", "read"))
        delivery = (await client.get(f"{base}/Messages/{message['sid']}")).json()["delivery"]
        updates = await receiver.wait_for(5)

    assert {receipt["sid"][:2] for receipt in found.values()} == {"DY"}
    assert {receipt["channel_message_sid"] for receipt in found.values()} == set(sid_to.values())
    assert {receipt["message_sid"] for receipt in found.values()} == {message["sid"]}
    assert delivery == {"total": 2, "sent": "all", "delivered": "all", "read": "some", "failed": "none",
                        "undelivered": "none"}
    assert {request.field("EventType") for request in updates} == {"onDeliveryUpdated"}
    by_participant = {sid: [r.field("Status") for r in updates if r.field("ParticipantSid") == sid]
                      for sid in (sms_sid, whatsapp_sid)}
    assert by_participant == {sms_sid: ["sent", "delivered"], whatsapp_sid: ["sent", "delivered", "read"]}
    assert {r.field("DeliveryReceiptSid") for r in updates} == {receipt["sid"] for receipt in found.values()}
    assert {r.field("MessageSid") for r in updates} == {message["sid"]}


async def test_a_send_the_provider_never_takes_is_a_visible_dead_letter_and_a_failed_delivery(launch: Any) -> None:
    parley: RunningParley = await launch()
    async with parley.client() as client:
        await create_provider(client, NUMBER, ApiBaseUrl=f"http://127.0.0.1:{free_port()}")  # nothing listens there
        base, (sms_sid,) = await conversation_with(client, (CUSTOMER, NUMBER))
        message = await agent_reply(client, base, "nobody home")

        async def parked() -> list[dict[str, Any]]:
            response = await client.get("/parley/v1/DeadLetters", params={"Queue": "ingress.sends"})
            assert response.status_code == 200, response.text
            return list(response.json()["dead_letters"])

        (dead,) = await eventually(parked, what="the parked send with its error",
                                   until=lambda found: len(found) == 1 and bool(found[0]["error"]))

        async def delivery() -> dict[str, Any] | None:
            return (await client.get(f"{base}/Messages/{message['sid']}")).json()["delivery"]

        summary = await eventually(delivery, what="the failed delivery summary")
        (receipt,) = (await client.get(f"{base}/Messages/{message['sid']}/Receipts")).json()["delivery_receipts"]

    assert (dead["queue"], dead["status"]) == ("ingress.sends", "parked")
    assert "Provider unreachable" in dead["error"]
    assert dead["payload"]["payload"]["message_sid"] == message["sid"]
    assert dead["payload"]["payload"]["participant_sid"] == sms_sid
    assert summary == {"total": 1, "sent": "none", "delivered": "none", "read": "none", "failed": "all",
                       "undelivered": "none"}
    assert (receipt["status"], receipt["error_code"], receipt["participant_sid"]) == ("failed", 90110, sms_sid)
    assert receipt["channel_message_sid"] is None  # Twilio's schema: a string or null, never ""
