"""What the ingress routes share: the calling account, the parsed form, the base URL, rule errors."""

import contextlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from services.ingress.domain.providers import ProviderRuleBroken
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


@contextlib.contextmanager
def rules_as_bad_request() -> Iterator[None]:
    """A broken provider rule is the client's bad input: 400 with the rule's own words."""
    try:
        yield
    except ProviderRuleBroken as broken:
        raise invalid_parameter(str(broken)) from broken
