"""A Twilio-format carrier's side of ingress: create its provider connection, post signed callbacks."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from shared.signatures import twilio_signature

CARRIER_ACCOUNT_SID = "AC" + "2" * 32
CARRIER_AUTH_TOKEN = "carrier-auth-token-0001"
CUSTOMER = "+15557654321"


async def create_provider(client: httpx.AsyncClient, *addresses: str, auth_token: str = CARRIER_AUTH_TOKEN,
                          **extra: Any) -> dict[str, Any]:
    """A `twilio` provider serving `addresses`; returns its JSON as the API rendered it."""
    response = await client.post("/parley/v1/Providers", data={
        "Type": "twilio", "FriendlyName": "Test carrier", "Addresses": list(addresses),
        "Credentials.AccountSid": CARRIER_ACCOUNT_SID, "Credentials.AuthToken": auth_token, **extra,
    })
    assert response.status_code == 201, response.text
    return dict(response.json())


def inbound_sms(*, to: str, from_: str = CUSTOMER, body: str = "Hello", message_sid: str | None = None,
                **extra: str) -> dict[str, str]:
    """The form Twilio posts for an inbound SMS (extra fields: MMS media, WhatsApp's ProfileName…)."""
    sid = message_sid or "SM" + uuid.uuid4().hex
    return {
        "MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": CARRIER_ACCOUNT_SID,
        "From": from_, "To": to, "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
        "ApiVersion": "2010-04-01", **extra,
    }


async def post_signed(url: str, form: dict[str, str], *, auth_token: str = CARRIER_AUTH_TOKEN,
                      signed_url: str | None = None, signature: str | None = None) -> httpx.Response:
    """POST `form` to `url` signed as Twilio signs: over `url` itself, unless a proxy's public `signed_url` is given."""
    if signature is None:
        signature = twilio_signature(signed_url or url, list(form.items()), auth_token)
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url, data=form, headers={"X-Twilio-Signature": signature})
