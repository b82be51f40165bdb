"""A messaging provider's side of Parley: create the connection, post signed inbound messages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from starlette.responses import JSONResponse, Response

from shared.signatures import twilio_signature
from tests.support.receiver import ReceivedRequest


@dataclass(frozen=True)
class Provider:
    sid: str
    auth_token: str
    inbound_url: str
    status_callback_url: str


async def create_twilio_provider(
    client: httpx.AsyncClient, *addresses: str, auth_token: str = "provider-secret-0001", api_base_url: str | None = None
) -> Provider:
    """`api_base_url`: where Parley sends outbound messages (a fake carrier, see `carrier_answer`)."""
    response = await client.post(
        "/parley/v1/Providers",
        data={
            "Type": "twilio", "FriendlyName": "Fake carrier", "Addresses": list(addresses),
            "Credentials.AccountSid": "AC" + "1" * 32, "Credentials.AuthToken": auth_token,
            **({"ApiBaseUrl": api_base_url} if api_base_url else {}),
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Provider(sid=body["sid"], auth_token=auth_token, inbound_url=body["inbound_url"],
                    status_callback_url=body["status_callback_url"])


def inbound_form(*, from_address: str, to_address: str, body: str, message_sid: str | None = None) -> dict[str, str]:
    sid = message_sid or "SM" + uuid.uuid4().hex
    return {
        "MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "1" * 32,
        "From": from_address, "To": to_address, "Body": body, "NumMedia": "0", "NumSegments": "1",
        "SmsStatus": "received", "ApiVersion": "2010-04-01",
    }


async def post_inbound(
    provider: Provider, form: dict[str, str], *, auth_token: str | None = None, client: httpx.AsyncClient | None = None
) -> httpx.Response:
    """POST the form to the provider's inbound URL, signed as Twilio signs it."""
    return await _post_signed(provider.inbound_url, form, auth_token or provider.auth_token, client)


async def post_status(provider: Provider, *, message_sid: str, status: str) -> httpx.Response:
    """A status callback for one of Parley's sends, signed as Twilio signs it."""
    form = {"MessageSid": message_sid, "MessageStatus": status, "AccountSid": "AC" + "1" * 32}
    return await _post_signed(provider.status_callback_url, form, provider.auth_token, None)


async def _post_signed(url: str, form: dict[str, str], auth_token: str,
                       client: httpx.AsyncClient | None) -> httpx.Response:
    headers = {"X-Twilio-Signature": twilio_signature(url, list(form.items()), auth_token)}
    if client is not None:
        return await client.post(url, data=form, headers=headers)
    async with httpx.AsyncClient(timeout=30) as fresh:
        return await fresh.post(url, data=form, headers=headers)


def carrier_answer(_: ReceivedRequest) -> Response:
    """A carrier's API accepting a send (the `carrier` fixture answers so)."""
    return JSONResponse({"sid": "SM" + uuid.uuid4().hex, "status": "queued"}, status_code=201)
