"""The plain rules of sending: what a provider's answer means, backoff, statuses, Meta's payloads and window."""

from datetime import UTC, datetime, timedelta

import pytest

from services.ingress.domain import sends, twilio_outbound, whatsapp_cloud
from services.ingress.domain.sends import Send

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def a_send(**changes: object) -> Send:
    values: dict[str, object] = {
        "id": 1, "account_sid": "AC" + "1" * 32, "conversation_sid": "CH" + "1" * 32, "message_sid": "IM" + "1" * 32,
        "participant_sid": "MB" + "1" * 32, "channel": "whatsapp", "provider_sid": "PV" + "1" * 32,
        "from_address": "whatsapp:+15550003333", "to_address": "whatsapp:+15557654321", "body": "hello",
        "media_urls": (), "media_content_types": (), "content_sid": None, "state": "sending", "attempts": 1,
        "channel_message_sid": None, "provider_status": None, "error_code": None, "error_message": None,
    }
    values.update(changes)
    return Send(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("status", "kind"), [(500, "retry"), (503, "retry"), (429, "retry"), (400, "refused"),
                                              (401, "refused"), (404, "refused")])
def test_5xx_and_429_are_retried_and_other_errors_are_final(status: int, kind: str) -> None:
    outcome = twilio_outbound.read_answer(status, b'{"code": 21211, "message": "Invalid To"}')
    assert outcome.kind == kind
    assert outcome.error_code == 21211
    assert "Invalid To" in (outcome.error_message or "")


def test_an_answer_without_a_message_sid_is_not_taken_for_success() -> None:
    assert twilio_outbound.read_answer(201, b"{}").kind == "refused"
    accepted = twilio_outbound.read_answer(201, b'{"sid": "SM123", "status": "queued"}')
    assert (accepted.kind, accepted.channel_message_sid, accepted.provider_status) == ("accepted", "SM123", "queued")


def test_backoff_doubles_up_to_its_maximum_and_honours_a_longer_retry_after() -> None:
    assert [sends.backoff_seconds(n, base=1, maximum=10) for n in range(1, 6)] == [1, 2, 4, 8, 10]
    assert sends.backoff_seconds(1, base=1, maximum=10, retry_after=5) == 5
    assert sends.backoff_seconds(1, base=1, maximum=10, retry_after=60) == 10
    assert twilio_outbound.read_answer(429, b"", retry_after="3").retry_after_seconds == 3


@pytest.mark.parametrize(("status", "receipt"), [("sent", "sent"), ("DELIVERED", "delivered"), ("read", "read"),
                                                 ("undelivered", "undelivered"), ("failed", "failed"),
                                                 ("queued", None), ("sending", None), ("accepted", None)])
def test_which_statuses_become_receipts(status: str, receipt: str | None) -> None:
    assert sends.receipt_status(status) == receipt


def test_the_customer_service_window_is_24_hours_since_the_customers_last_message() -> None:
    assert whatsapp_cloud.within_window(NOW - timedelta(hours=23, minutes=59), NOW)
    assert not whatsapp_cloud.within_window(NOW - timedelta(hours=24), NOW)
    assert not whatsapp_cloud.within_window(None, NOW)


def test_graph_api_bodies_for_text_media_and_templates() -> None:
    assert whatsapp_cloud.message_json(a_send(), media_types=())["text"] == {"preview_url": False, "body": "hello"}
    media = whatsapp_cloud.message_json(a_send(media_urls=("https://m/1.pdf",), media_content_types=("application/pdf",)),
                                        media_types=("application/pdf",))
    assert (media["type"], media["document"]) == ("document", {"link": "https://m/1.pdf", "caption": "hello"})
    template = whatsapp_cloud.message_json(a_send(content_sid="welcome"), media_types=())
    assert template["template"] == {"name": "welcome", "language": {"code": "en_US"}}
    assert template["to"] == "15557654321"


def test_meta_throttling_codes_are_retried_even_on_http_400() -> None:
    assert whatsapp_cloud.read_answer(400, b'{"error": {"code": 130429, "message": "Rate limit hit"}}').kind == "retry"
    assert whatsapp_cloud.read_answer(400, b'{"error": {"code": 131026, "message": "Undeliverable"}}').kind == "refused"


def test_unknown_webhook_kinds_are_skipped_and_a_non_webhook_is_rejected() -> None:
    payload = {"entry": [{"changes": [{"value": {
        "metadata": {"display_phone_number": "15550003333"},
        "messages": [{"from": "15557654321", "id": "wamid.1", "type": "reaction", "reaction": {"emoji": "👍"}},
                     {"from": "15557654321", "id": "wamid.2", "type": "text", "text": {"body": "hi"}}],
        "statuses": [{"id": "wamid.9", "status": "failed", "timestamp": "1795600800",
                      "errors": [{"code": 131047, "title": "Re-engagement message"}]}],
    }}]}]}
    webhook = whatsapp_cloud.read_webhook(payload, provider_sid="PV" + "1" * 32, addresses=("whatsapp:+15550003333",),
                                          media_base_url="https://graph", received_at=NOW)
    assert [m.channel_message_sid for m in webhook.messages] == ["wamid.2"]
    assert [(s.status, s.error_code, s.reported_at) for s in webhook.statuses] == [
        ("failed", 131047, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))]
    with pytest.raises(whatsapp_cloud.WebhookRejected):
        whatsapp_cloud.read_webhook({"hello": 1}, provider_sid="PV" + "1" * 32, addresses=(),
                                    media_base_url="https://graph", received_at=NOW)
