"""`/v1/Credentials`: push credentials (APN certificate and key, GCM/FCM keys) kept as stored configuration.
Secrets are written, never rendered; Parley sends no push notifications."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from services.conversations.api.deps import FormData, base_of, caller
from services.conversations.api.identity_deps import dated_page, page_of
from services.conversations.domain.identity import Credential
from services.conversations.render import Root
from services.conversations.render import identity as render
from services.conversations.store import identity as store
from shared.errors import missing_parameter, not_found
from shared.forms import Form
from shared.runtime import ServiceContext

CREDENTIAL_TYPES = ("apn", "gcm", "fcm")
_SECRETS = {"Certificate": "certificate", "PrivateKey": "private_key", "ApiKey": "api_key", "Secret": "secret"}


def credential_values(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if (credential_type := form.choice("Type", CREDENTIAL_TYPES)) is not None:
        values["type"] = credential_type
    if (name := form.str("FriendlyName", max_length=64)) is not None:
        values["friendly_name"] = name
    if (sandbox := form.bool("Sandbox")) is not None:
        values["sandbox"] = sandbox
    for parameter, column in _SECRETS.items():
        if (secret := form.str(parameter, max_length=16384)) is not None:
            values[column] = secret
    return values


def credentials_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix="/conversations/v1/Credentials")
    Caller = caller(context)
    pool = context.pool

    async def root(request: Request) -> Root:
        return Root(base_of(context, request))

    At = Annotated[Root, Depends(root)]

    async def credential_or_404(conn: store.Connection, account_sid: str, sid: str) -> Credential:
        found = await store.get_credential(conn, account_sid=account_sid, sid=sid)
        if found is None:
            raise not_found(f"Credential {sid}")
        return found

    @router.post("", status_code=201)
    async def create(form: FormData, account: Caller, at: At) -> dict[str, Any]:  # type: ignore[valid-type]
        values = credential_values(form)
        if "type" not in values:
            raise missing_parameter("Type")
        async with pool.acquire() as conn, conn.transaction():
            created = await store.insert_credential(conn, account_sid=account.sid, values=values, box=context.box)  # type: ignore[attr-defined]
        return render.credential(created, at)

    @router.get("")
    async def list_(form: FormData, account: Caller, at: At) -> dict[str, Any]:  # type: ignore[valid-type]
        page = page_of(form, max_size=100)
        rows = await store.list_credentials(pool, account_sid=account.sid, after=page.after,  # type: ignore[attr-defined]
                                            before=page.before, limit=page.size + 1)
        return dated_page(key="credentials", rows=rows, page=page, url=f"{at.v1}/Credentials",
                          render=lambda row: render.credential(row, at))

    @router.get("/{Sid}")
    async def fetch(Sid: str, account: Caller, at: At) -> dict[str, Any]:  # type: ignore[valid-type]
        return render.credential(await credential_or_404(pool, account.sid, Sid), at)  # type: ignore[attr-defined]

    @router.post("/{Sid}")
    async def update(Sid: str, form: FormData, account: Caller, at: At) -> dict[str, Any]:  # type: ignore[valid-type]
        values = credential_values(form)
        async with pool.acquire() as conn, conn.transaction():
            credential = await credential_or_404(conn, account.sid, Sid)  # type: ignore[attr-defined]
            if values:
                credential = await store.update_credential(conn, sid=credential.sid, values=values, box=context.box)
        return render.credential(credential, at)

    @router.delete("/{Sid}", status_code=204)
    async def delete(Sid: str, account: Caller) -> Response:  # type: ignore[valid-type]
        async with pool.acquire() as conn, conn.transaction():
            if not await store.delete_credential(conn, account_sid=account.sid, sid=Sid):  # type: ignore[attr-defined]
                raise not_found(f"Credential {Sid}")
        return Response(status_code=204)

    return router
