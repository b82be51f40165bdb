"""One implementation for both path forms: `/v1/Conversations/…` on the account's default service and
`/v1/Services/{ChatServiceSid}/Conversations/…` on the named one.

A router factory takes the path root; `place_of(context)` is the dependency that finds the service
either way, so routes never care which form the client used.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from services.conversations import store
from services.conversations.api.deps import base_of, caller
from services.conversations.handlers.conversations import Action
from services.conversations.render import Root
from shared.auth.principal import Principal, TokenHolder
from shared.errors import not_found
from shared.forms import Form
from shared.runtime import ServiceContext

DEFAULT_ROOT = "/conversations/v1"
SERVICE_ROOT = "/conversations/v1/Services/{ChatServiceSid}"
ROOTS = (DEFAULT_ROOT, SERVICE_ROOT)


@dataclass(frozen=True)
class Place:
    """The calling account, the service acted on, and how its resources are addressed."""

    account_sid: str
    service_sid: str
    root: Root
    webhooks: bool  # X-Twilio-Webhook-Enabled: true
    timer_scale: float
    holder: TokenHolder | None = None  # a chat user (access token), acting as its identity; None: the account

    @property
    def identity(self) -> str | None:
        return self.holder.identity if self.holder is not None else None

    def action(self) -> Action:
        if self.holder is not None:  # a chat user's action is an SDK action: it always fires webhooks
            return Action(base=self.root.base, source="SDK", webhooks=True, timer_scale=self.timer_scale,
                          client_identity=self.holder.identity)
        return Action(base=self.root.base, source="API", webhooks=self.webhooks, timer_scale=self.timer_scale)


def place_of(context: ServiceContext, *, tokens: bool = False) -> type[Place]:
    """`Annotated[Place, Depends(...)]` for one router factory. With `tokens`, a chat user's access token is
    accepted too: it acts in its grant's chat service (the default service when the grant names none)."""
    Caller = caller(context)
    Anyone = Annotated[Principal, Depends(context.authenticate.principal)]

    async def resolve(request: Request, principal: Principal) -> Place:
        named = request.path_params.get("ChatServiceSid")
        account_sid = principal.sid
        holder = principal.token
        async with context.pool.acquire() as conn:
            if named is None and holder is not None and holder.chat_service_sid:
                named_by_grant = holder.chat_service_sid
                if not await store.service_exists(conn, account_sid=account_sid, sid=named_by_grant):
                    raise not_found(f"Service {named_by_grant}")
                service_sid = named_by_grant
            elif named is None:
                service_sid = await store.ensure_default_service(conn, account_sid=account_sid)
            elif (holder is None or holder.chat_service_sid in (None, named)) and await store.service_exists(
                    conn, account_sid=account_sid, sid=named):
                service_sid = named
            else:
                raise not_found(f"Service {named}")
        return Place(
            account_sid=account_sid,
            service_sid=service_sid,
            root=Root(base_of(context, request), named),
            webhooks=request.headers.get("x-twilio-webhook-enabled", "").lower() == "true",
            timer_scale=context.settings.conversation_timer_scale,
            holder=holder,
        )

    if tokens:
        async def resolve_anyone(request: Request, principal: Anyone) -> Place:  # type: ignore[valid-type]
            return await resolve(request, principal)  # type: ignore[arg-type]

        return Annotated[Place, Depends(resolve_anyone)]  # type: ignore[return-value]

    async def resolve_account(request: Request, account: Caller) -> Place:  # type: ignore[valid-type]
        return await resolve(request, Principal(account=account))  # type: ignore[arg-type]

    return Annotated[Place, Depends(resolve_account)]  # type: ignore[return-value]


def both_forms(context: ServiceContext, factory: Callable[[ServiceContext, str], APIRouter]) -> list[APIRouter]:
    return [factory(context, root) for root in ROOTS]


def form_datetime(form: Form, name: str, *, end_of_day: bool = False) -> datetime | None:
    return form.datetime(name, end_of_day=end_of_day)


def form_attributes(form: Form, name: str = "Attributes") -> str | None:
    """A JSON string parameter kept as text; invalid JSON is refused."""
    return form.json_object(name)
