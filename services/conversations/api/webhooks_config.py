"""The account-level `/v1/Configuration` and `/v1/Configuration/Webhooks`, and a service's
`/v1/Services/{ChatServiceSid}/Configuration/Webhooks`."""

from typing import Any

from fastapi import APIRouter, Request

from services.conversations import render, store
from services.conversations.api.deps import FormData, base_of, caller, checked_url
from services.conversations.domain.states import InvalidDuration, parse_duration
from services.conversations.domain.webhook_names import POST_EVENTS, PRE_EVENTS
from services.conversations.render import Root
from shared.errors import invalid_parameter, not_found
from shared.forms import Form
from shared.runtime import ServiceContext

V1 = "/conversations/v1"


async def _webhook_values(context: ServiceContext, form: Form) -> dict[str, Any]:
    """Method, Filters, PreWebhookUrl, PostWebhookUrl: shared by the account and service levels."""
    values: dict[str, Any] = {}
    if (method := form.str("Method")) is not None:
        if method.upper() not in ("GET", "POST"):
            raise invalid_parameter(f"Parameter 'Method' must be GET or POST, not '{method}'")
        values["method"] = method.upper()
    if (filters := form.list("Filters")) is not None:
        unknown = [name for name in filters if name not in POST_EVENTS and name not in PRE_EVENTS]
        if unknown:
            raise invalid_parameter(f"Invalid Filters: {', '.join(unknown)}")
        values["filters"] = filters
    for parameter, column in (("PreWebhookUrl", "pre_webhook_url"), ("PostWebhookUrl", "post_webhook_url")):
        if (url := form.str(parameter)) is not None:
            values[column] = await checked_url(context, url or None, parameter=parameter)
    return values


def _timer(form: Form, name: str) -> Any:
    value = form.str(name)
    if value is None:
        return "absent"
    try:
        return parse_duration(value)
    except InvalidDuration as error:
        raise invalid_parameter(f"Parameter '{name}' is not a valid ISO 8601 duration: {value}") from error


def webhooks_config_router(context: ServiceContext) -> APIRouter:
    router = APIRouter()
    Caller = caller(context)
    pool = context.pool

    @router.get(f"{V1}/Configuration")
    async def fetch_configuration(request: Request, account: Caller) -> dict[str, Any]:
        async with pool.acquire() as conn:
            config = await store.get_account_configuration(conn, account_sid=account.sid)
            default_service = await store.ensure_default_service(conn, account_sid=account.sid)
        return render.account_configuration(config, Root(base_of(context, request)), default_chat_service_sid=default_service)

    @router.post(f"{V1}/Configuration")
    async def update_configuration(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if (messaging := form.str("DefaultMessagingServiceSid")) is not None:
            if not (messaging.startswith("MG") and len(messaging) == 34):
                raise invalid_parameter("DefaultMessagingServiceSid must be a Messaging Service SID (MG…)")
            values["default_messaging_service_sid"] = messaging
        for parameter, column in (("DefaultInactiveTimer", "default_inactive_timer"),
                                  ("DefaultClosedTimer", "default_closed_timer")):
            if (timer := _timer(form, parameter)) != "absent":
                values[column] = timer
        service = form.str("DefaultChatServiceSid")
        async with pool.acquire() as conn, conn.transaction():
            if service is not None:
                if not await store.service_exists(conn, account_sid=account.sid, sid=service):
                    raise not_found(f"Service {service}")
                await store.make_default_service(conn, account_sid=account.sid, sid=service)
            config = (await store.update_account_configuration(conn, account_sid=account.sid, values=values) if values
                      else await store.get_account_configuration(conn, account_sid=account.sid))
            default_service = await store.ensure_default_service(conn, account_sid=account.sid)
        return render.account_configuration(config, Root(base_of(context, request)), default_chat_service_sid=default_service)

    @router.get(f"{V1}/Configuration/Webhooks")
    async def fetch_account_webhooks(request: Request, account: Caller) -> dict[str, Any]:
        config = await store.get_account_configuration(pool, account_sid=account.sid)
        return render.account_webhooks(config, Root(base_of(context, request)))

    @router.post(f"{V1}/Configuration/Webhooks")
    async def update_account_webhooks(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        values = {("webhook_" + key if key in ("method", "filters") else key): value
                  for key, value in (await _webhook_values(context, form)).items()}
        if (target := form.choice("Target", ["webhook", "flex"])) is not None:
            values["webhook_target"] = target
        async with pool.acquire() as conn, conn.transaction():
            config = (await store.update_account_configuration(conn, account_sid=account.sid, values=values) if values
                      else await store.get_account_configuration(conn, account_sid=account.sid))
        return render.account_webhooks(config, Root(base_of(context, request)))

    async def service_or_404(account_sid: str, sid: str) -> None:
        if not await store.service_exists(pool, account_sid=account_sid, sid=sid):
            raise not_found(f"Service {sid}")

    @router.get(f"{V1}/Services/{{ChatServiceSid}}/Configuration/Webhooks")
    async def fetch_service_webhooks(request: Request, ChatServiceSid: str, account: Caller) -> dict[str, Any]:
        await service_or_404(account.sid, ChatServiceSid)
        config = await store.get_service_webhooks(pool, chat_service_sid=ChatServiceSid)
        return render.service_webhooks(config, Root(base_of(context, request)), account_sid=account.sid,
                                       chat_service_sid=ChatServiceSid)

    @router.post(f"{V1}/Services/{{ChatServiceSid}}/Configuration/Webhooks")
    async def update_service_webhooks(request: Request, ChatServiceSid: str, form: FormData,
                                      account: Caller) -> dict[str, Any]:
        await service_or_404(account.sid, ChatServiceSid)
        values = await _webhook_values(context, form)
        async with pool.acquire() as conn, conn.transaction():
            config = (await store.update_service_webhooks(conn, account_sid=account.sid, chat_service_sid=ChatServiceSid,
                                                          values=values) if values
                      else await store.get_service_webhooks(conn, chat_service_sid=ChatServiceSid))
        return render.service_webhooks(config, Root(base_of(context, request)), account_sid=account.sid,
                                       chat_service_sid=ChatServiceSid)

    return router
