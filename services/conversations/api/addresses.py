"""`/conversations/v1/Configuration/Addresses`: which addresses auto-create conversations, and how."""

import re
from typing import Any

import asyncpg
from fastapi import APIRouter, Request, Response

from services.conversations import render, store
from services.conversations.api.deps import FormData, base_of, caller, checked_url
from services.conversations.domain.webhook_names import POST_EVENTS
from shared.contracts.references import Reference
from shared.errors import TwilioError, invalid_parameter, not_found
from shared.forms import Form
from shared.paging import page_slice, read_page_request, render_page
from shared.references import ReferenceCheck
from shared.runtime import ServiceContext
from shared.sids import is_sid

PATH = "/conversations/v1/Configuration/Addresses"
TYPES = ["sms", "whatsapp", "messenger", "gbm", "email", "rcs", "apple", "chat"]
AUTO_CREATION_TYPES = ["webhook", "studio", "default"]


async def _auto_creation_values(context: ServiceContext, form: Form, account_sid: str, conn: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if (enabled := form.bool("AutoCreation.Enabled")) is not None:
        values["auto_creation_enabled"] = enabled
    if (kind := form.choice("AutoCreation.Type", AUTO_CREATION_TYPES)) is not None:
        values["auto_creation_type"] = kind
    if (service_sid := form.str("AutoCreation.ConversationServiceSid")) is not None:
        if not await store.service_exists(conn, account_sid=account_sid, sid=service_sid):
            raise invalid_parameter(f"Conversation Service {service_sid} was not found", code=50300)
        values["conversation_service_sid"] = service_sid
    if (url := form.str("AutoCreation.WebhookUrl")) is not None:
        values["webhook_url"] = await checked_url(context, url, parameter="AutoCreation.WebhookUrl")
    if (method := form.choice("AutoCreation.WebhookMethod", ["get", "post"])) is not None:
        values["webhook_method"] = method.upper()
    if (filters := form.list("AutoCreation.WebhookFilters")) is not None:
        unknown = [name for name in filters if name not in POST_EVENTS]
        if unknown:
            raise invalid_parameter(f"Invalid AutoCreation.WebhookFilters: {', '.join(unknown)}")
        values["webhook_filters"] = filters
    if (flow := _studio_flow_sid(form)) is not None:
        values["studio_flow_sid"] = flow
    if (retries := form.int("AutoCreation.StudioRetryCount", minimum=0, maximum=3)) is not None:
        values["studio_retry_count"] = retries
    return values


def _studio_flow_sid(form: Form) -> str | None:
    flow = form.str("AutoCreation.StudioFlowSid")
    if flow is not None and not is_sid(flow, "FW"):
        raise invalid_parameter("AutoCreation.StudioFlowSid must be a Flow SID (FW…)")
    return flow


async def _require_own_flow(references: ReferenceCheck, form: Form, account_sid: str) -> None:
    """The router owns flows: it is asked before the transaction opens, so no connection waits on its answer."""
    if (flow := _studio_flow_sid(form)) is not None:
        await references.require(account_sid=account_sid, references=[Reference(kind="flow", sid=flow)])


def _require_complete(values: dict[str, Any]) -> None:
    if values.get("auto_creation_enabled") and not values.get("auto_creation_type"):
        raise invalid_parameter("AutoCreation.Type is required when AutoCreation.Enabled is true")
    if values.get("auto_creation_type") == "webhook" and values.get("auto_creation_enabled") and not values.get("webhook_url"):
        raise invalid_parameter("AutoCreation.WebhookUrl is required for AutoCreation.Type webhook")
    if values.get("auto_creation_type") == "studio" and values.get("auto_creation_enabled") and not values.get("studio_flow_sid"):
        raise invalid_parameter("AutoCreation.StudioFlowSid is required for AutoCreation.Type studio")


_PHONE = re.compile(r"^\+[1-9]\d{1,14}$")
_SHORT_CODE = re.compile(r"^\d{3,8}$")


def valid_address(kind: str, address: str) -> str:
    """SMS addresses are E.164 numbers or short codes; WhatsApp ones carry the `whatsapp:` prefix."""
    if kind == "sms" and not (_PHONE.match(address) or _SHORT_CODE.match(address)):
        raise invalid_parameter(f"Invalid Address '{address}': expected an E.164 number like +15550001111")
    if kind == "whatsapp" and not (address.startswith("whatsapp:") and _PHONE.match(address.removeprefix("whatsapp:"))):
        raise invalid_parameter(f"Invalid Address '{address}': expected whatsapp:+15550001111")
    return address


def addresses_router(context: ServiceContext, references: ReferenceCheck) -> APIRouter:
    router = APIRouter(prefix=PATH)
    Caller = caller(context)
    pool = context.pool

    @router.post("", status_code=201)
    async def create(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        kind = form.choice("Type", TYPES)
        if kind is None:
            raise invalid_parameter("Missing required parameter Type in the post body")
        values: dict[str, Any] = {"type": kind, "address": valid_address(kind, form.required("Address", max_length=256))}
        if (name := form.str("FriendlyName", max_length=256)) is not None:
            values["friendly_name"] = name
        if (country := form.str("AddressCountry", max_length=2)) is not None:
            values["address_country"] = country.upper()
        await _require_own_flow(references, form, account.sid)
        async with pool.acquire() as conn, conn.transaction():
            values.update(await _auto_creation_values(context, form, account.sid, conn))
            if values.get("auto_creation_type") == "webhook":
                values.setdefault("webhook_method", "POST")
            _require_complete(values)
            try:
                created = await store.insert_address_configuration(conn, account_sid=account.sid, values=values)
            except asyncpg.UniqueViolationError as error:
                raise TwilioError(409, 90009, f"An address configuration for {values['address']} already exists") from error
        return render.address_configuration(created, base_of(context, request))

    @router.get("")
    async def list_(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        page = read_page_request(form, max_size=50)
        kind = form.str("Type")
        rows = await store.list_address_configurations(
            pool, account_sid=account.sid, type_=kind, after=page.after, before=page.before, limit=page.size + 1
        )
        rows, has_more = page_slice(rows, page)
        base = base_of(context, request)
        return render_page(
            key="address_configurations", items=[render.address_configuration(row, base) for row in rows],
            keys=[row.sid for row in rows], request=page, has_more=has_more, url=f"{base}{PATH}",
            filters=[("Type", kind)] if kind else None,
        )

    @router.get("/{sid}")
    async def fetch(request: Request, sid: str, account: Caller) -> dict[str, Any]:
        found = await store.get_address_configuration(pool, account_sid=account.sid, sid_or_address=sid)
        if found is None:
            raise not_found(f"Address configuration {sid}")
        return render.address_configuration(found, base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        await _require_own_flow(references, form, account.sid)
        async with pool.acquire() as conn, conn.transaction():
            found = await store.get_address_configuration(conn, account_sid=account.sid, sid_or_address=sid)
            if found is None:
                raise not_found(f"Address configuration {sid}")
            values = await _auto_creation_values(context, form, account.sid, conn)
            if (name := form.str("FriendlyName", max_length=256)) is not None:
                values["friendly_name"] = name
            merged = {field: getattr(found, field) for field in store.ADDRESS_FIELDS} | values
            _require_complete(merged)
            updated = await store.update_address_configuration(conn, account_sid=account.sid, sid=found.sid, values=values)
        assert updated is not None
        return render.address_configuration(updated, base_of(context, request))

    @router.delete("/{sid}", status_code=204)
    async def delete(sid: str, account: Caller) -> Response:
        async with pool.acquire() as conn, conn.transaction():
            found = await store.get_address_configuration(conn, account_sid=account.sid, sid_or_address=sid)
            if found is None or not await store.delete_address_configuration(conn, account_sid=account.sid, sid=found.sid):
                raise not_found(f"Address configuration {sid}")
        return Response(status_code=204)

    return router
