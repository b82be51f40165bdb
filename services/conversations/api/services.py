"""`/v1/Services` (create, fetch, list, delete) and each service's `Configuration` and
`Configuration/Notifications`. A new service comes with Twilio's default roles."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from services.conversations.api.deps import FormData, base_of, caller
from services.conversations.api.identity_deps import dated_page, page_of, role_reference, service_place_of
from services.conversations.domain.identity import Service
from services.conversations.render import Root
from services.conversations.render import identity as render
from services.conversations.store import identity as store
from shared.blobs import BlobStore
from shared.errors import not_found
from shared.forms import Form
from shared.runtime import ServiceContext

V1 = "/conversations/v1"

# Configuration/Notifications parameters and their columns.
_NOTIFICATION_BOOLEANS = {
    "LogEnabled": "log_enabled",
    "NewMessage.Enabled": "new_message_enabled",
    "NewMessage.BadgeCountEnabled": "new_message_badge_count_enabled",
    "NewMessage.WithMedia.Enabled": "new_message_with_media_enabled",
    "AddedToConversation.Enabled": "added_to_conversation_enabled",
    "RemovedFromConversation.Enabled": "removed_from_conversation_enabled",
}
_NOTIFICATION_TEXTS = {
    "NewMessage.Template": ("new_message_template", 1024),
    "NewMessage.Sound": ("new_message_sound", 256),
    "NewMessage.WithMedia.Template": ("new_message_with_media_template", 1024),
    "AddedToConversation.Template": ("added_to_conversation_template", 1024),
    "AddedToConversation.Sound": ("added_to_conversation_sound", 256),
    "RemovedFromConversation.Template": ("removed_from_conversation_template", 1024),
    "RemovedFromConversation.Sound": ("removed_from_conversation_sound", 256),
}


def notification_values(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for parameter, column in _NOTIFICATION_BOOLEANS.items():
        if (flag := form.bool(parameter)) is not None:
            values[column] = flag
    for parameter, (column, limit) in _NOTIFICATION_TEXTS.items():
        if (text := form.str(parameter, max_length=limit)) is not None:
            values[column] = text
    return values


def services_router(context: ServiceContext, blobs: BlobStore) -> APIRouter:
    router = APIRouter(prefix=f"{V1}/Services")
    Caller = caller(context)
    At = service_place_of(context)
    pool = context.pool

    async def base(request: Request) -> str:
        return base_of(context, request)

    Base = Annotated[str, Depends(base)]

    async def service_or_404(conn: store.Connection, account_sid: str, sid: str) -> Service:
        found = await store.get_service(conn, account_sid=account_sid, sid=sid)
        if found is None:
            raise not_found(f"Service {sid}")
        return found

    @router.post("", status_code=201)
    async def create(form: FormData, account: Caller, base: Base) -> dict[str, Any]:  # type: ignore[valid-type]
        friendly_name = form.required("FriendlyName", max_length=256)
        async with pool.acquire() as conn, conn.transaction():
            created = await store.insert_service(conn, account_sid=account.sid, friendly_name=friendly_name)  # type: ignore[attr-defined]
            await store.ensure_default_roles(conn, account_sid=created.account_sid, service_sid=created.sid)
            created = await service_or_404(conn, created.account_sid, created.sid)
        return render.service(created, Root(base))

    @router.get("")
    async def list_(form: FormData, account: Caller, base: Base) -> dict[str, Any]:  # type: ignore[valid-type]
        page = page_of(form, max_size=100)
        rows = await store.list_services(pool, account_sid=account.sid, after=page.after, before=page.before,  # type: ignore[attr-defined]
                                         limit=page.size + 1)
        root = Root(base)
        return dated_page(key="services", rows=rows, page=page, url=f"{root.v1}/Services",
                          render=lambda row: render.service(row, root))

    @router.get("/{Sid}")
    async def fetch(Sid: str, account: Caller, base: Base) -> dict[str, Any]:  # type: ignore[valid-type]
        return render.service(await service_or_404(pool, account.sid, Sid), Root(base))  # type: ignore[attr-defined]

    @router.delete("/{Sid}", status_code=204)
    async def delete(Sid: str, account: Caller) -> Response:  # type: ignore[valid-type]
        async with pool.acquire() as conn, conn.transaction():
            await service_or_404(conn, account.sid, Sid)  # type: ignore[attr-defined]
            blob_keys = await store.delete_service(conn, sid=Sid)
        for key in blob_keys:  # after the commit: a failed delete leaves an orphan blob, never a dangling record
            await blobs.delete(key)
        return Response(status_code=204)

    @router.get("/{ChatServiceSid}/Configuration")
    async def fetch_configuration(place: At) -> dict[str, Any]:
        service = await service_or_404(pool, place.account_sid, place.service_sid)
        return render.service_configuration(service, place.root)

    @router.post("/{ChatServiceSid}/Configuration")
    async def update_configuration(form: FormData, place: At) -> dict[str, Any]:
        async with pool.acquire() as conn, conn.transaction():
            values: dict[str, Any] = {}
            for parameter, column, role_type in (
                ("DefaultConversationCreatorRoleSid", "default_conversation_creator_role_sid", "conversation"),
                ("DefaultConversationRoleSid", "default_conversation_role_sid", "conversation"),
                ("DefaultChatServiceRoleSid", "default_chat_service_role_sid", "service"),
            ):
                role = await role_reference(conn, form, parameter, chat_service_sid=place.service_sid, role_type=role_type)
                if role is not None:
                    values[column] = role.sid
            if (reachability := form.bool("ReachabilityEnabled")) is not None:
                values["reachability_enabled"] = reachability
            if values:
                service = await store.update_service_configuration(conn, sid=place.service_sid, values=values)
            else:
                service = await service_or_404(conn, place.account_sid, place.service_sid)
        return render.service_configuration(service, place.root)

    @router.get("/{ChatServiceSid}/Configuration/Notifications")
    async def fetch_notifications(place: At) -> dict[str, Any]:
        found = await store.get_notifications(pool, account_sid=place.account_sid, chat_service_sid=place.service_sid)
        return render.service_notifications(found, place.root)

    @router.post("/{ChatServiceSid}/Configuration/Notifications")
    async def update_notifications(form: FormData, place: At) -> dict[str, Any]:
        values = notification_values(form)
        async with pool.acquire() as conn, conn.transaction():
            found = await store.update_notifications(conn, account_sid=place.account_sid,
                                                     chat_service_sid=place.service_sid, values=values)
        return render.service_notifications(found, place.root)

    return router

