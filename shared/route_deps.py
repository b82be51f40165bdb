"""The dependencies every service's routes share: the parsed form, the calling account, the base URL, URL checks."""

from typing import Annotated

from fastapi import Depends, Request

from shared.auth.accounts import Account
from shared.egress import EgressRefused, resolve_destination
from shared.errors import invalid_parameter
from shared.forms import Form
from shared.http import base_url
from shared.runtime import ServiceContext


async def read_form(request: Request) -> Form:
    return await Form.read(request)


FormData = Annotated[Form, Depends(read_form)]


def caller(context: ServiceContext) -> type[Account]:
    """`Annotated[Account, Depends(context.authenticate)]`, named once per router factory."""
    return Annotated[Account, Depends(context.authenticate)]  # type: ignore[return-value]


def base_of(context: ServiceContext, request: Request) -> str:
    return base_url(request, context.settings.public_base_url)


# Short: a configuration request should not hang on a slow resolver; delivery resolves again anyway.
URL_CHECK_RESOLVE_TIMEOUT = 1.0


async def checked_url(context: ServiceContext, url: str | None, *, parameter: str) -> str | None:
    """Refuse at configuration time a URL the egress policy would refuse at delivery time, so a client hears of
    it now as a 400 naming `parameter` rather than later as failed deliveries. None (not given, or cleared)
    passes unchecked."""
    if url is None:
        return None
    try:
        await resolve_destination(url, context.outbound.allowed_networks, timeout=URL_CHECK_RESOLVE_TIMEOUT)
    except EgressRefused as error:
        raise invalid_parameter(f"Parameter '{parameter}' is refused by the egress policy: {error}") from error
    return url
