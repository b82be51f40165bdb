"""`/v1/Roles` and `/v1/Services/{ChatServiceSid}/Roles`: conversation and service roles whose permissions are
Twilio's permission names, checked against the role's type."""

from typing import Any

from fastapi import APIRouter, Response

from services.conversations.api.deps import FormData
from services.conversations.api.identity_deps import dated_page, page_of, service_place_of
from services.conversations.api.scope import Place
from services.conversations.domain.identity import ROLE_TYPES, InvalidPermission, Role, check_permissions
from services.conversations.render import identity as render
from services.conversations.store import identity as store
from shared.errors import invalid_parameter, missing_parameter, not_found
from shared.forms import Form
from shared.runtime import ServiceContext


def permissions_of(form: Form, role_type: str) -> list[str]:
    permissions = form.list("Permission")
    if not permissions:
        raise missing_parameter("Permission")
    try:
        return check_permissions(role_type, permissions)
    except InvalidPermission as error:
        raise invalid_parameter(str(error)) from error


async def role_or_404(conn: store.Connection, place: Place, sid: str) -> Role:
    found = await store.get_role(conn, chat_service_sid=place.service_sid, sid=sid)
    if found is None:
        raise not_found(f"Role {sid}")
    return found


def roles_router(context: ServiceContext, root: str) -> APIRouter:
    router = APIRouter(prefix=f"{root}/Roles")
    At = service_place_of(context)
    pool = context.pool

    @router.post("", status_code=201)
    async def create(form: FormData, place: At) -> dict[str, Any]:
        friendly_name = form.required("FriendlyName", max_length=64)
        role_type = form.choice("Type", ROLE_TYPES)
        if role_type is None:
            raise missing_parameter("Type")
        permissions = permissions_of(form, role_type)
        async with pool.acquire() as conn, conn.transaction():
            created = await store.insert_role(conn, account_sid=place.account_sid, chat_service_sid=place.service_sid,
                                              friendly_name=friendly_name, type=role_type, permissions=permissions)
        return render.role(created, place.root)

    @router.get("")
    async def list_(form: FormData, place: At) -> dict[str, Any]:
        page = page_of(form, max_size=50)
        rows = await store.list_roles(pool, chat_service_sid=place.service_sid, after=page.after, before=page.before,
                                      limit=page.size + 1)
        return dated_page(key="roles", rows=rows, page=page, url=f"{place.root.url}/Roles",
                          render=lambda row: render.role(row, place.root))

    @router.get("/{Sid}")
    async def fetch(Sid: str, place: At) -> dict[str, Any]:
        return render.role(await role_or_404(pool, place, Sid), place.root)

    @router.post("/{Sid}")
    async def update(Sid: str, form: FormData, place: At) -> dict[str, Any]:
        """Permission replaces every permission the role had."""
        async with pool.acquire() as conn, conn.transaction():
            role = await role_or_404(conn, place, Sid)
            updated = await store.update_role_permissions(conn, sid=role.sid, permissions=permissions_of(form, role.type))
        return render.role(updated, place.root)

    @router.delete("/{Sid}", status_code=204)
    async def delete(Sid: str, place: At) -> Response:
        async with pool.acquire() as conn, conn.transaction():
            role = await role_or_404(conn, place, Sid)
            await store.delete_role(conn, sid=role.sid)
        return Response(status_code=204)

    return router
