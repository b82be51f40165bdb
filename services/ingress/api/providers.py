"""`/parley/v1/Providers`: the connections to messaging providers an account receives and sends through."""

from typing import Any

from fastapi import APIRouter, Request, Response

from services.ingress import handlers, render, store
from services.ingress.api.deps import FormData, base_of, caller, checked_url, rules_as_bad_request
from services.ingress.domain.providers import (
    ALL_CREDENTIAL_PARAMETERS,
    PROVIDER_TYPES,
    Provider,
    ProviderFields,
    ProviderRuleBroken,
    changed,
    checked_addresses,
    checked_api_base_url,
    checked_credentials,
    require_credentials,
)
from services.ingress.provider_directory import ProviderDirectory
from shared.errors import missing_parameter, not_found
from shared.forms import Form
from shared.paging import read_page_request, render_page
from shared.runtime import ServiceContext

PATH = render.PROVIDERS_PATH
MAX_PAGE_SIZE = 1000


def _credentials_given(form: Form) -> dict[str, str]:
    return {name: value for name in ALL_CREDENTIAL_PARAMETERS if (value := form.str(name)) is not None}


def _friendly_name(form: Form) -> str | None:
    return form.str("FriendlyName", max_length=256)


async def _api_base_url(context: ServiceContext, form: Form) -> str | None:
    """The URL given, "" when the client clears it, None when absent."""
    value = form.str("ApiBaseUrl", max_length=2048)
    if not value:
        return value
    with rules_as_bad_request():
        checked_api_base_url(value)
    return await checked_url(context, value, parameter="ApiBaseUrl")


def providers_router(context: ServiceContext, directory: ProviderDirectory) -> APIRouter:
    router = APIRouter(prefix=PATH)
    Caller = caller(context)
    pool = context.pool

    @router.post("", status_code=201)
    async def create(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        type_ = form.choice("Type", PROVIDER_TYPES)
        if type_ is None:
            raise missing_parameter("Type")
        addresses = form.list("Addresses")
        if addresses is None:
            raise missing_parameter("Addresses")
        with rules_as_bad_request():
            credentials = {key: value for key, value in checked_credentials(type_, _credentials_given(form)).items()
                           if value}
            require_credentials(type_, credentials)
            fields = ProviderFields(
                type=type_, addresses=checked_addresses(addresses), friendly_name=_friendly_name(form),
                api_base_url=await _api_base_url(context, form) or None, credentials=credentials,
            )
        created = await handlers.create_provider(pool, directory, account_sid=account.sid, fields=fields)
        return render.provider(created, base_of(context, request))

    @router.get("")
    async def list_(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        page = read_page_request(form, max_size=MAX_PAGE_SIZE)
        rows = await store.list_providers(
            pool, account_sid=account.sid, after=page.after, before=page.before, limit=page.size + 1,
            box=context.box,
        )
        has_more = len(rows) > page.size
        rows = rows[-page.size:] if page.before is not None else rows[: page.size]
        base = base_of(context, request)
        return render_page(
            key="providers", items=[render.provider(row, base) for row in rows], keys=[row.sid for row in rows],
            request=page, has_more=has_more, url=f"{base}{PATH}",
        )

    @router.get("/{sid}")
    async def fetch(request: Request, sid: str, account: Caller) -> dict[str, Any]:
        found = await store.get_provider(pool, sid=sid, account_sid=account.sid, box=context.box)
        if found is None:
            raise not_found(f"Provider {sid}")
        return render.provider(found, base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        # Everything that does not depend on the stored provider is checked before touching it.
        type_ = form.choice("Type", PROVIDER_TYPES)
        given_addresses = form.list("Addresses")
        with rules_as_bad_request():
            addresses = checked_addresses(given_addresses) if given_addresses is not None else None
        friendly_name = _friendly_name(form)
        api_base_url = await _api_base_url(context, form)
        credentials = _credentials_given(form)

        def change(current: Provider) -> ProviderFields:
            with rules_as_bad_request():
                if type_ is not None and type_ != current.type:
                    raise ProviderRuleBroken("A provider's Type cannot be changed; create a new provider instead")
                return changed(
                    current, friendly_name=friendly_name, addresses=addresses, api_base_url=api_base_url or None,
                    clear_api_base_url=api_base_url == "",
                    credentials=checked_credentials(current.type, credentials),
                )

        updated = await handlers.update_provider(pool, directory, account_sid=account.sid, sid=sid, change=change)
        return render.provider(updated, base_of(context, request))

    @router.delete("/{sid}", status_code=204)
    async def delete(sid: str, account: Caller) -> Response:
        await handlers.delete_provider(pool, directory, account_sid=account.sid, sid=sid)
        return Response(status_code=204)

    return router
