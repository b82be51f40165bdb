"""Provider reports on sends become receipts (DY…), the message's delivery summary and onDeliveryUpdated."""

from datetime import UTC, datetime

from starlette.responses import JSONResponse

from shared.broker.topology import INBOUND
from shared.contracts.channels import DELIVERY_RECEIPT, DeliveryReceiptReport
from shared.contracts.envelope import make_envelope
from tests.support.parley import RunningParley
from tests.support.receiver import Receiver
from tests.support.waiting import eventually

CUSTOMER, PARLEY_NUMBER = "+15551110000", "+15552220000"


async def report(parley: RunningParley, message: dict, participant_sid: str, status: str, error_code: int = 0) -> None:
    envelope = make_envelope(DELIVERY_RECEIPT, DeliveryReceiptReport(
        conversation_sid=message["conversation_sid"], message_sid=message["sid"], participant_sid=participant_sid,
        channel_message_sid="SM" + "5" * 32, status=status, error_code=error_code, reported_at=datetime.now(UTC),
    ), account_sid=parley.account.sid)
    await parley.runtime.broker.publish(INBOUND, DELIVERY_RECEIPT, envelope.to_bytes(), message_id=str(envelope.message_id))


async def test_reports_become_receipts_summary_and_webhooks_and_stale_ones_are_ignored(
    parley: RunningParley, receiver: Receiver
) -> None:
    carrier = Receiver(responder=lambda _: JSONResponse({"sid": "SM" + "5" * 32, "status": "queued"}, status_code=201))
    await carrier.start()
    async with parley.client() as client:
        # The agent's message goes out through this fake carrier wherever outbound sending is wired in.
        await client.post("/parley/v1/Providers", data={
            "Type": "twilio", "FriendlyName": "carrier", "Addresses": PARLEY_NUMBER, "ApiBaseUrl": carrier.url,
            "Credentials.AccountSid": "AC" + "2" * 32, "Credentials.AuthToken": "carrier-secret-0001",
        })
        conversation = (await client.post("/conversations/v1/Conversations", data={"FriendlyName": "r"})).json()
        base = f"/conversations/v1/Conversations/{conversation['sid']}"
        customer = (await client.post(f"{base}/Participants", data={
            "MessagingBinding.Address": CUSTOMER, "MessagingBinding.ProxyAddress": PARLEY_NUMBER,
        })).json()
        await client.post(f"{base}/Webhooks", data={"Target": "webhook", "Configuration.Url": f"{receiver.url}/h",
                                                    "Configuration.Filters": "onDeliveryUpdated"})
        message = (await client.post(f"{base}/Messages", data={"Author": "agent", "Body": "Your order shipped"})).json()
        for status in ("sent", "delivered", "sent"):  # the second `sent` arrives late and must not win
            await report(parley, message, customer["sid"], status)
        delivered = await receiver.wait_for(2)

        async def receipts() -> list[dict]:
            return (await client.get(f"{base}/Messages/{message['sid']}/Receipts")).json()["delivery_receipts"]

        found = await eventually(receipts, until=lambda rows: rows and rows[0]["status"] == "delivered")
        summary = (await client.get(f"{base}/Messages/{message['sid']}")).json()["delivery"]
    assert [request.field("Status") for request in delivered] == ["sent", "delivered"]
    assert delivered[0].field("DeliveryReceiptSid") == found[0]["sid"] and found[0]["sid"].startswith("DY")
    assert summary["total"] == 1 and summary["delivered"] == "all" and summary["sent"] == "all"
    assert len(receiver.requests) == 2
    await carrier.stop()
