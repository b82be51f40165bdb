"""The dependencies every service's routes share: the parsed form, the calling account, the base URL."""

from typing import Annotated

from fastapi import Depends, Request

from shared.auth.accounts import Account
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
