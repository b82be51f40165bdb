"""What every Conversations route needs: the calling account, its form, the base URL, a connection."""

from typing import Annotated

from fastapi import Depends, Request

from shared.auth.accounts import Account
from shared.egress import EgressRefused, parse_networks, resolve_destination
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


async def check_webhook_url(context: ServiceContext, url: str, *, parameter: str) -> str:
    """Refuse at configuration time a URL the egress policy would refuse at delivery time."""
    try:
        await resolve_destination(url, parse_networks(context.settings.egress_networks), timeout=1.0)
    except EgressRefused as error:
        raise invalid_parameter(f"Parameter '{parameter}' is not an allowed URL: {error}") from error
    return url
