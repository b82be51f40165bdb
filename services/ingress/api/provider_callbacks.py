"""`/ingress/providers/{ProviderSid}/…`: where providers post inbound messages and statuses (Twilio's format at
`/messages` and `/status`; Meta's WhatsApp Cloud webhook at `/whatsapp`).

No Basic auth here: the provider signs each request (X-Twilio-Signature with its auth token; Meta's
X-Hub-Signature-256 with the app secret).
Inbound messages are the hot path of the channel edge: they touch the database only on a cache
miss, and not even then while it is down (services/ingress/provider_directory.py). Status callbacks are kept by
the broker too, then recorded on their send by a consumer: both are answered once the broker confirmed them.
"""

import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from services.ingress import handlers
from services.ingress.domain import whatsapp_cloud
from services.ingress.domain.providers import TWILIO, WHATSAPP_CLOUD, Provider
from services.ingress.domain.twilio_inbound import InboundRejected, read_inbound_message
from services.ingress.errors import invalid_hub_signature, invalid_signature, invalid_verify_token
from services.ingress.inbound_media import InboundMediaFetcher
from services.ingress.provider_directory import ProviderDirectory
from services.ingress.render import CALLBACKS_PATH
from shared.contracts.channels import ProviderStatusReport
from shared.errors import invalid_parameter, missing_parameter, not_found
from shared.http import request_url
from shared.runtime import ServiceContext
from shared.sids import is_sid
from shared.signatures import is_valid_twilio_signature

STATUS = re.compile(r"^[A-Za-z_]{1,32}$")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


async def _body_params(request: Request) -> list[tuple[str, str]]:
    """The POST parameters exactly as signed: the body's, not the query string's (that is part of the URL)."""
    if not request.headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
        return []
    try:
        text = (await request.body()).decode()
    except UnicodeDecodeError as error:
        raise invalid_parameter("The request body is not valid UTF-8") from error
    return parse_qsl(text, keep_blank_values=True)


def provider_callbacks_router(context: ServiceContext, directory: ProviderDirectory,
                              media: InboundMediaFetcher | None = None) -> APIRouter:
    """With `media`, inbound files are fetched into the blob store before the message is published."""
    router = APIRouter(prefix=CALLBACKS_PATH)
    public_base_url = context.settings.public_base_url
    broker = context.broker
    pool = context.pool
    publish_timeout = context.settings.inbound_publish_timeout_seconds

    async def signed_fields(request: Request, provider_sid: str) -> tuple[Provider, dict[str, str]]:
        """The provider and the request's fields, once the signature proves the provider sent them."""
        provider = await directory.get(provider_sid) if is_sid(provider_sid, "PV") else None
        if provider is None or provider.type != TWILIO or not provider.auth_token:
            raise not_found(f"Provider {provider_sid}")
        params = await _body_params(request)
        signature = request.headers.get("x-twilio-signature")
        if not is_valid_twilio_signature(request_url(request, public_base_url), params, provider.auth_token, signature):
            raise invalid_signature()
        return provider, dict(params)

    @router.post("/{provider_sid}/messages")
    async def receive_message(request: Request, provider_sid: str) -> Response:
        """A customer's SMS, MMS or WhatsApp message: queued on the fabric (confirmed) before the 200."""
        provider, fields = await signed_fields(request, provider_sid)
        try:
            inbound = read_inbound_message(
                fields, provider_sid=provider.sid, addresses=provider.addresses, received_at=datetime.now(UTC)
            )
        except InboundRejected as rejected:
            raise invalid_parameter(rejected.message) from rejected
        await handlers.accept_inbound_message(broker, provider=provider, inbound=inbound,
                                              publish_timeout=publish_timeout, media=media)
        return Response(EMPTY_TWIML, media_type="text/xml")

    @router.post("/{provider_sid}/status", status_code=204)
    async def receive_status(request: Request, provider_sid: str) -> Response:
        """A delivery status callback, queued (confirmed) to be noted on the send; sent, delivered, read,
        undelivered and failed become receipts."""
        provider, fields = await signed_fields(request, provider_sid)
        message_sid = fields.get("MessageSid") or fields.get("SmsSid")
        if not message_sid:
            raise missing_parameter("MessageSid")
        status = fields.get("MessageStatus") or fields.get("SmsStatus")
        if not status:
            raise missing_parameter("MessageStatus")
        if not STATUS.match(status):
            raise invalid_parameter(f"Invalid MessageStatus '{status}'")
        error_code = fields.get("ErrorCode") or None
        if error_code is not None and not error_code.isdigit():
            raise invalid_parameter(f"Invalid ErrorCode '{error_code}'")
        report = ProviderStatusReport(provider_sid=provider.sid, channel_message_sid=message_sid[:256],
                                      status=status.lower(), error_code=int(error_code) if error_code else None,
                                      reported_at=datetime.now(UTC))
        await handlers.accept_status_callback(broker, provider=provider, report=report, publish_timeout=publish_timeout)
        return Response(status_code=204)

    async def whatsapp_provider(provider_sid: str) -> Provider:
        provider = await directory.get(provider_sid) if is_sid(provider_sid, "PV") else None
        if provider is None or provider.type != WHATSAPP_CLOUD:
            raise not_found(f"Provider {provider_sid}")
        return provider

    @router.get("/{provider_sid}/whatsapp")
    async def verify_whatsapp_webhook(request: Request, provider_sid: str) -> Response:
        """Meta's verification handshake: echo `hub.challenge` when `hub.verify_token` is the provider's."""
        provider = await whatsapp_provider(provider_sid)
        params = dict(request.query_params)
        if not whatsapp_cloud.is_valid_handshake(params, provider.credentials.get("verify_token")):
            raise invalid_verify_token()
        return PlainTextResponse(params.get("hub.challenge", ""))

    @router.post("/{provider_sid}/whatsapp")
    async def receive_whatsapp(request: Request, provider_sid: str) -> Response:
        """Messages and statuses from Meta, signed with the app secret (X-Hub-Signature-256) over the raw body."""
        provider = await whatsapp_provider(provider_sid)
        body = await request.body()
        if not whatsapp_cloud.is_valid_hub_signature(body, provider.credentials.get("app_secret"),
                                                     request.headers.get("x-hub-signature-256")):
            raise invalid_hub_signature()
        try:
            webhook = whatsapp_cloud.read_webhook(
                json.loads(body), provider_sid=provider.sid, addresses=provider.addresses,
                media_base_url=provider.api_base_url or whatsapp_cloud.DEFAULT_API_BASE_URL,
                received_at=datetime.now(UTC),
            )
        except (ValueError, whatsapp_cloud.WebhookRejected) as error:
            raise invalid_parameter(f"Unreadable WhatsApp webhook: {error}") from error
        await handlers.accept_whatsapp_webhook(pool, broker, provider=provider, webhook=webhook,
                                               publish_timeout=publish_timeout, media=media)
        return Response(status_code=200)

    return router
