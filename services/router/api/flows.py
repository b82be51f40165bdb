"""`/parley/v1/Flows`: the Studio-like flows an address configuration of AutoCreation.Type studio runs."""

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from services.router.api.deps import FormData, base_of, caller, listing, page_of
from services.router.flows import store
from services.router.flows.definition import parse_definition
from services.router.flows.store import Flow
from shared.errors import not_found
from shared.forms import Form
from shared.runtime import ServiceContext

ROOT = "/parley/v1/Flows"


def render_flow(flow: Flow, base: str) -> dict[str, Any]:
    return {
        "sid": flow.sid,
        "account_sid": flow.account_sid,
        "friendly_name": flow.friendly_name,
        "definition": flow.definition,
        "date_created": flow.date_created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "date_updated": flow.date_updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "url": f"{base}{ROOT}/{flow.sid}",
    }


def flows_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=ROOT)
    Caller = caller(context)
    pool = context.pool

    async def flow_or_404(account_sid: str, sid: str) -> Flow:
        found = await store.get_flow(pool, account_sid=account_sid, sid=sid)
        if found is None:
            raise not_found(f"Flow {sid}")
        return found

    def definition_of(form: Form) -> dict[str, Any]:
        raw = form.required("Definition")
        parse_definition(raw)  # a 400 naming the fault
        return dict(json.loads(raw))

    @router.post("", status_code=201)
    async def create(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        name = form.required("FriendlyName", max_length=256)
        definition = definition_of(form)
        flow = await store.insert_flow(pool, account_sid=account.sid, friendly_name=name, definition=definition)
        return render_flow(flow, base_of(context, request))

    @router.get("")
    async def list_(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        page, keyset = page_of(form)
        rows = await store.list_flows(pool, account_sid=account.sid, keyset=keyset)
        base = base_of(context, request)
        return listing(key="flows", rows=rows, page=page, url=f"{base}{ROOT}", draw=lambda row: render_flow(row, base))

    @router.get("/{sid}")
    async def fetch(request: Request, sid: str, account: Caller) -> dict[str, Any]:
        return render_flow(await flow_or_404(account.sid, sid), base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        flow = await flow_or_404(account.sid, sid)
        values: dict[str, Any] = {}
        if "FriendlyName" in form:
            values["friendly_name"] = form.required("FriendlyName", max_length=256)
        if "Definition" in form:
            values["definition"] = definition_of(form)
        if values:
            flow = await store.update_flow(pool, sid=flow.sid, values=values)
        return render_flow(flow, base_of(context, request))

    @router.delete("/{sid}", status_code=204)
    async def delete(sid: str, account: Caller) -> Response:
        flow = await flow_or_404(account.sid, sid)
        await store.delete_flow(pool, sid=flow.sid)
        return Response(status_code=204)

    return router
