"""Sending through a Twilio-format provider: its Messages.json request and what its answer says."""

from __future__ import annotations

import json

from services.ingress.domain.sends import PROVIDER_ERROR, Outcome, Send, accepted, http_error, refused

DEFAULT_API_BASE_URL = "https://api.twilio.com"


def messages_url(api_base_url: str | None, account_sid: str) -> str:
    return f"{(api_base_url or DEFAULT_API_BASE_URL).rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"


def message_form(send: Send, *, status_callback_url: str) -> list[tuple[str, str]]:
    """`To`, `From`, `Body`, one `MediaUrl` per file, `StatusCallback`; a template is `ContentSid`."""
    form = [("To", send.to_address), ("From", send.from_address)]
    if send.content_sid:
        form.append(("ContentSid", send.content_sid))
    elif send.body:
        form.append(("Body", send.body))
    form.extend(("MediaUrl", url) for url in send.media_urls)
    form.append(("StatusCallback", status_callback_url))
    return form


def read_answer(status_code: int, body: bytes, *, retry_after: str | None = None) -> Outcome:
    if status_code >= 300:
        return http_error(status_code, body, retry_after=retry_after)
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    sid = data.get("sid") if isinstance(data, dict) else None
    if not isinstance(sid, str) or not sid:
        # Taken, but unnamed: its status callbacks could never be matched, so say so rather than guess.
        return refused(PROVIDER_ERROR, f"Provider answered HTTP {status_code} without a message sid")
    status = data.get("status") if isinstance(data, dict) else None
    return accepted(sid, status if isinstance(status, str) else None)
