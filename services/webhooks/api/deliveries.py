"""`/parley/v1/WebhookDeliveries`: every delivery with its attempts, and replay of one or of every match."""

from typing import Any, get_args

from fastapi import APIRouter, Request

from services.webhooks import handlers, render, store
from services.webhooks.api.deps import FormData, base_of, caller, seq_key
from services.webhooks.domain.models import DELIVERY_STATUSES, DeliveryFilters
from shared.contracts.webhooks import WebhookTarget
from shared.errors import invalid_parameter, not_found
from shared.forms import Form
from shared.paging import page_slice, read_page_request, render_page
from shared.runtime import ServiceContext

PATH = render.DELIVERIES_PATH
TARGETS = list(get_args(WebhookTarget))


def read_filters(form: Form) -> DeliveryFilters:
    return DeliveryFilters(
        status=form.choice("Status", DELIVERY_STATUSES),
        event_type=form.str("EventType"),
        target=form.choice("Target", TARGETS),
        resource_sid=form.str("ResourceSid"),
        url=form.str("Url"),
    )


def deliveries_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=PATH)
    Caller = caller(context)
    pool = context.pool

    async def rendered(deliveries: list[Any], base: str) -> list[dict[str, Any]]:
        async with pool.acquire() as conn:
            attempts = await store.list_attempts(conn, delivery_sids=[delivery.sid for delivery in deliveries])
        return [render.delivery(delivery, attempts[delivery.sid], base) for delivery in deliveries]

    @router.get("")
    async def list_(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        page = read_page_request(form)
        filters = read_filters(form)
        async with pool.acquire() as conn:
            rows = await store.list_deliveries(
                conn, account_sid=account.sid, filters=filters, after=seq_key(page.after), before=seq_key(page.before),
                limit=page.size + 1,
            )
        rows, has_more = page_slice(rows, page)
        base = base_of(context, request)
        return render_page(
            key="webhook_deliveries", items=await rendered(rows, base), keys=[row.seq for row in rows],
            request=page, has_more=has_more, url=f"{base}{PATH}", filters=filters.as_params(),
        )

    @router.post("/Replay")
    async def replay_matching(form: FormData, account: Caller) -> dict[str, Any]:
        filters = read_filters(form)
        if filters.is_empty():
            # Re-sending every delivery ever made is never what was meant.
            raise invalid_parameter("Give at least one filter: Status, EventType, Target, ResourceSid or Url")
        count = await handlers.replay_matching_deliveries(pool, account_sid=account.sid, filters=filters)
        return {"count": count, "filters": dict(filters.as_params())}

    @router.get("/{sid}")
    async def fetch(request: Request, sid: str, account: Caller) -> dict[str, Any]:
        async with pool.acquire() as conn:
            found = await store.get_delivery(conn, account_sid=account.sid, sid=sid)
        if found is None:
            raise not_found(f"Webhook delivery {sid}")
        return (await rendered([found], base_of(context, request)))[0]

    @router.post("/{sid}/Replay")
    async def replay(request: Request, sid: str, account: Caller) -> dict[str, Any]:
        replayed = await handlers.replay_delivery(pool, account_sid=account.sid, sid=sid)
        return (await rendered([replayed], base_of(context, request)))[0]

    return router

