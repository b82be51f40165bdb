"""`/v1/Services/{ChatServiceSid}/Bindings`: the push bindings SDK clients registered; list (BindingType,
Identity), fetch, delete. Parley stores them and sends no push notifications."""

from typing import Any

from fastapi import APIRouter, Response

from services.conversations.api.deps import FormData
from services.conversations.api.identity_deps import dated_page, page_of, service_place_of
from services.conversations.api.scope import SERVICE_ROOT, Place
from services.conversations.domain.identity import Binding
from services.conversations.render import identity as render
from services.conversations.store import identity as store
from shared.errors import invalid_parameter, not_found
from shared.runtime import ServiceContext

BINDING_TYPES = ("apn", "gcm", "fcm", "twilsock")


async def binding_or_404(conn: store.Connection, place: Place, sid: str) -> Binding:
    found = await store.get_binding(conn, chat_service_sid=place.service_sid, sid=sid)
    if found is None:
        raise not_found(f"Binding {sid}")
    return found


def bindings_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=f"{SERVICE_ROOT}/Bindings")
    At = service_place_of(context)
    pool = context.pool

    @router.get("")
    async def list_(form: FormData, place: At) -> dict[str, Any]:
        page = page_of(form, max_size=100)
        binding_types = form.list("BindingType")
        for value in binding_types or []:
            if value not in BINDING_TYPES:
                raise invalid_parameter(f"Parameter 'BindingType' must be one of {', '.join(BINDING_TYPES)}, not '{value}'")
        identities = form.list("Identity")
        rows = await store.list_bindings(pool, chat_service_sid=place.service_sid, binding_types=binding_types or None,
                                         identities=identities or None, after=page.after, before=page.before,
                                         limit=page.size + 1)
        filters = [("BindingType", value) for value in binding_types or []] + [("Identity", value) for value in identities or []]
        return dated_page(key="bindings", rows=rows, page=page, url=f"{place.root.v1}/Services/{place.service_sid}/Bindings",
                          render=lambda row: render.binding(row, place.root), filters=filters)

    @router.get("/{Sid}")
    async def fetch(Sid: str, place: At) -> dict[str, Any]:
        return render.binding(await binding_or_404(pool, place, Sid), place.root)

    @router.delete("/{Sid}", status_code=204)
    async def delete(Sid: str, place: At) -> Response:
        async with pool.acquire() as conn, conn.transaction():
            binding = await binding_or_404(conn, place, Sid)
            await store.delete_binding(conn, sid=binding.sid)
        return Response(status_code=204)

    return router
