"""What every webhooks route needs: the calling account, its form, the base URL, the page key."""

from typing import Annotated, Any

from fastapi import Depends, Request

from shared.auth.accounts import Account
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


def seq_key(value: Any) -> int | None:
    """The `seq` a page token carries (lists page in arrival order)."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid_parameter("Invalid PageToken")
    return value
