"""`/ingress/providers/{ProviderSid}/…`: where Twilio-format providers post inbound messages and statuses.

No Basic auth here: the provider signs each request with its auth token (X-Twilio-Signature).
This is the hot path of the channel edge, so it touches the database only on a cache miss.
"""

from datetime import UTC, datetime
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response

from services.ingress import handlers
from services.ingress.domain.providers import TWILIO, Provider
from services.ingress.domain.twilio_inbound import InboundRejected, read_inbound_message
from services.ingress.errors import invalid_signature
from services.ingress.provider_directory import ProviderDirectory
from services.ingress.render import CALLBACKS_PATH
from shared.errors import invalid_parameter, missing_parameter, not_found
from shared.http import request_url
from shared.runtime import ServiceContext
from shared.sids import is_sid
from shared.signatures import is_valid_twilio_signature

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


def provider_callbacks_router(context: ServiceContext, directory: ProviderDirectory) -> APIRouter:
    router = APIRouter(prefix=CALLBACKS_PATH)
    public_base_url = context.settings.public_base_url
    broker = context.broker

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
        await handlers.accept_inbound_message(broker, provider=provider, inbound=inbound)
        return Response(EMPTY_TWIML, media_type="text/xml")

    @router.post("/{provider_sid}/status", status_code=204)
    async def receive_status(request: Request, provider_sid: str) -> Response:
        """A delivery status callback, checked (signature, MessageSid, MessageStatus) and acknowledged.

        Turning statuses into delivery receipts on messages belongs with outbound sending, which
        arrives with the channel-edge issue; until then a valid callback is acknowledged and not kept.
        """
        _, fields = await signed_fields(request, provider_sid)
        if not (fields.get("MessageSid") or fields.get("SmsSid")):
            raise missing_parameter("MessageSid")
        if not (fields.get("MessageStatus") or fields.get("SmsStatus")):
            raise missing_parameter("MessageStatus")
        return Response(status_code=204)

    return router
