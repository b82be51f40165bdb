"""Meta's WhatsApp Cloud API: its webhook (handshake, signature, messages and statuses) and its messages endpoint."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from services.ingress.domain.sends import PROVIDER_ERROR, Outcome, Send, accepted, http_error, refused
from shared.contracts.ingress import InboundMedia, InboundMessage

DEFAULT_API_BASE_URL = "https://graph.facebook.com/v19.0"
# Business-initiated free-form messages are allowed only this long after the customer last wrote.
CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
DEFAULT_TEMPLATE_LANGUAGE = "en_US"
_MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
# Meta's throttling codes come with HTTP 400 at times; they are worth a retry all the same.
_RETRYABLE_CODES = {4, 80007, 130429, 131048, 131056}
# Meta's delivery errors as Twilio's messaging codes, so receipts read the same on every channel; a code with
# no Twilio counterpart is kept as Meta gave it.
TWILIO_CODES = {
    131026: 30003,  # message undeliverable: the destination cannot receive it
    131049: 30007,  # not delivered by Meta's choice (ecosystem engagement): filtered
    131000: 30008,  # something went wrong: unknown error
}


def twilio_code(code: int | None) -> int | None:
    return TWILIO_CODES.get(code, code) if code is not None else None


class WebhookRejected(ValueError):
    """The payload is not a WhatsApp Business webhook Parley can read."""


@dataclass(frozen=True)
class StatusReport:
    channel_message_sid: str  # wamid…
    status: str
    error_code: int | None
    reported_at: datetime


@dataclass(frozen=True)
class Webhook:
    messages: list[InboundMessage]
    statuses: list[StatusReport]


def is_valid_hub_signature(body: bytes, app_secret: str | None, header: str | None) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed by the app secret>`."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def hub_signature(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def is_valid_handshake(params: Mapping[str, str], verify_token: str | None) -> bool:
    token = params.get("hub.verify_token")
    return bool(
        verify_token and params.get("hub.mode") == "subscribe" and token is not None
        and hmac.compare_digest(token.encode(), verify_token.encode())
    )


def customer_address(wa_id: str) -> str:
    return "whatsapp:+" + wa_id.lstrip("+")


def read_webhook(payload: Any, *, provider_sid: str, addresses: Sequence[str], media_base_url: str,
                 received_at: datetime) -> Webhook:
    """Every message and status in the payload's entry[].changes[].value; unknown kinds are skipped, as Meta
    adds new ones. Raises WebhookRejected when the payload is not shaped like Meta's at all."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise WebhookRejected("Expected a WhatsApp Business webhook: an object with an 'entry' list")
    messages: list[InboundMessage] = []
    statuses: list[StatusReport] = []
    for entry in payload["entry"]:
        for change in _dicts(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            to_address = _our_address(value.get("metadata"), addresses)
            names = {contact.get("wa_id"): (contact.get("profile") or {}).get("name")
                     for contact in _dicts(value.get("contacts"))}
            for message in _dicts(value.get("messages")):
                read = _message(message, provider_sid=provider_sid, to_address=to_address, names=names,
                                media_base_url=media_base_url, received_at=received_at)
                if read is not None:
                    messages.append(read)
            for status in _dicts(value.get("statuses")):
                report = _status(status, received_at=received_at)
                if report is not None:
                    statuses.append(report)
    return Webhook(messages=messages, statuses=statuses)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _our_address(metadata: Any, addresses: Sequence[str]) -> str:
    """The provider's `whatsapp:+…` address the customer wrote to: the displayed number when the provider lists
    it, else the provider's (first) WhatsApp address."""
    whatsapp = [address for address in addresses if address.startswith("whatsapp:")]
    display = metadata.get("display_phone_number") if isinstance(metadata, dict) else None
    if isinstance(display, str):
        candidate = "whatsapp:+" + "".join(ch for ch in display if ch.isdigit())
        if candidate in whatsapp:
            return candidate
    if not whatsapp:
        raise WebhookRejected("The provider lists no whatsapp:+… address to receive on")
    return whatsapp[0]


def _message(message: dict[str, Any], *, provider_sid: str, to_address: str, names: Mapping[Any, Any],
             media_base_url: str, received_at: datetime) -> InboundMessage | None:
    sender, wamid, kind = message.get("from"), message.get("id"), message.get("type")
    if not isinstance(sender, str) or not isinstance(wamid, str) or not sender or not wamid:
        return None
    body = ""
    media: list[InboundMedia] = []
    if kind == "text":
        body = str((message.get("text") or {}).get("body") or "")
    elif kind in _MEDIA_TYPES:
        item = message.get(kind) or {}
        body = str(item.get("caption") or "")
        if item.get("id"):
            # Meta's media object: fetched with the provider's access token, it gives the file's URL.
            media.append(InboundMedia(url=f"{media_base_url.rstrip('/')}/{item['id']}",
                                      content_type=str(item.get("mime_type") or "application/octet-stream")))
    elif kind == "button":
        body = str((message.get("button") or {}).get("text") or "")
    elif kind == "interactive":
        reply = message.get("interactive") or {}
        chosen = reply.get("button_reply") or reply.get("list_reply") or {}
        body = str(chosen.get("title") or "")
    else:
        return None  # reactions, locations, contacts…: not conversation messages yet
    name = names.get(sender)
    return InboundMessage(
        provider_sid=provider_sid, channel="whatsapp", channel_message_sid=wamid,
        from_address=customer_address(sender), to_address=to_address, body=body, media=media,
        profile_name=name if isinstance(name, str) and name else None, received_at=received_at,
    )


def _status(status: dict[str, Any], *, received_at: datetime) -> StatusReport | None:
    wamid, value = status.get("id"), status.get("status")
    if not isinstance(wamid, str) or not isinstance(value, str) or not wamid:
        return None
    errors = _dicts(status.get("errors"))
    code = errors[0].get("code") if errors else None
    return StatusReport(channel_message_sid=wamid, status=value.lower(),
                        error_code=twilio_code(code) if isinstance(code, int) else None,
                        reported_at=_timestamp(status.get("timestamp")) or received_at)


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


# --- Sending ---------------------------------------------------------------------------------------------------

def messages_url(api_base_url: str | None, phone_number_id: str) -> str:
    return f"{(api_base_url or DEFAULT_API_BASE_URL).rstrip('/')}/{phone_number_id}/messages"


def within_window(last_inbound_at: datetime | None, now: datetime) -> bool:
    return last_inbound_at is not None and now - last_inbound_at < CUSTOMER_SERVICE_WINDOW


def template(content_sid: str) -> dict[str, Any]:
    """A template send: `content_sid` names an approved template, optionally with its language (`name:es_MX`)."""
    name, _, language = content_sid.partition(":")
    return {"name": name, "language": {"code": language or DEFAULT_TEMPLATE_LANGUAGE}}


def message_json(send: Send, *, media_types: Sequence[str]) -> dict[str, Any]:
    """The Graph API body: a template, a media message (the body as its caption), or text.

    Meta takes one file per message; a send with several files carries the first one.
    """
    base: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                            "to": send.to_address.removeprefix("whatsapp:").lstrip("+")}
    if send.content_sid:
        return {**base, "type": "template", "template": template(send.content_sid)}
    if send.media_urls:
        kind = media_kind(media_types[0] if media_types else "")
        item: dict[str, Any] = {"link": send.media_urls[0]}
        if send.body and kind != "audio":
            item["caption"] = send.body
        return {**base, "type": kind, kind: item}
    return {**base, "type": "text", "text": {"preview_url": False, "body": send.body}}


def media_kind(content_type: str) -> str:
    major = content_type.split("/", 1)[0].lower()
    return major if major in ("image", "audio", "video") else "document"


def outside_window_error() -> Outcome:
    return refused(63016, "Failed to send freeform message because you are outside the allowed window: the customer "
                          "last wrote more than 24 hours ago (or never). Send a template (ContentSid) instead.")


def read_answer(status_code: int, body: bytes, *, retry_after: str | None = None) -> Outcome:
    if status_code >= 300:
        outcome = http_error(status_code, body, retry_after=retry_after)
        if outcome.kind == "refused" and outcome.error_code in _RETRYABLE_CODES:
            return Outcome("retry", error_code=outcome.error_code, error_message=outcome.error_message)
        return Outcome(outcome.kind, error_code=twilio_code(outcome.error_code), error_message=outcome.error_message,
                       retry_after_seconds=outcome.retry_after_seconds)
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    messages = data.get("messages") if isinstance(data, dict) else None
    wamid = messages[0].get("id") if isinstance(messages, list) and messages and isinstance(messages[0], dict) \
        else None
    if not isinstance(wamid, str) or not wamid:
        return refused(PROVIDER_ERROR, f"Provider answered HTTP {status_code} without a message id")
    return accepted(wamid, "accepted")
