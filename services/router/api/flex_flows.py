"""`/flex-api/v1/FlexFlows`: a channel type and contact identity tied to a flow, a webhook or a task."""

from typing import Any

from fastapi import APIRouter, Request, Response

from services.router import render_flex as render
from services.router.api.deps import FormData, base_of, caller, checked_url, listing, page_of
from services.router.domain.flex_flows import FlexFlow, check_integration, merged_integration_type, read_flex_flow_form
from services.router.flows import store as flow_store
from services.router.handlers.flex_flows import publish_addresses
from services.router.store import flex_flows as store
from services.router.store import workflows, workspaces
from services.router.store.base import Connection
from shared.errors import TwilioError, invalid_parameter, not_found
from shared.rpc import RpcClient
from shared.runtime import ServiceContext

ROOT = render.FLEX_FLOWS
ADDRESS_TAKEN = 90803  # Parley's own code: Twilio documents none for this


def address_taken(values: dict[str, Any], current: FlexFlow | None) -> TwilioError:
    identity = values.get("contact_identity", current.contact_identity if current else None)
    return TwilioError(409, ADDRESS_TAKEN, f"An enabled Flex Flow already answers {identity} on this channel type")


async def check_targets(conn: Connection, *, account_sid: str, kind: str, integration: dict[str, Any]) -> None:
    """The flow, or the workspace and its workflow, exist in this account: a bad SID is a 400, not a later failure."""
    if kind == "studio" and await flow_store.get_flow(conn, account_sid=account_sid,
                                                      sid=integration["flow_sid"]) is None:
        raise invalid_parameter(f"Integration.FlowSid {integration['flow_sid']} is not a Flow of this account")
    if kind == "task":
        workspace = await workspaces.get_workspace(conn, account_sid=account_sid, sid=integration["workspace_sid"])
        if workspace is None:
            raise invalid_parameter(f"Integration.WorkspaceSid {integration['workspace_sid']} is not a Workspace")
        if await workflows.get_workflow(conn, workspace_sid=workspace.sid, sid=integration["workflow_sid"]) is None:
            raise invalid_parameter(f"Integration.WorkflowSid {integration['workflow_sid']} is not a Workflow of "
                                    f"Workspace {workspace.sid}")


def flex_flows_router(context: ServiceContext, rpc: RpcClient) -> APIRouter:
    router = APIRouter(prefix=ROOT)
    Caller = caller(context)
    pool = context.pool

    async def one(conn: Connection, account_sid: str, sid: str, *, for_update: bool = False) -> FlexFlow:
        found = await store.get_flex_flow(conn, account_sid=account_sid, sid=sid, for_update=for_update)
        if found is None:
            raise not_found(f"FlexFlow {sid}")
        return found

    async def save(account_sid: str, values: dict[str, Any], current: FlexFlow | None) -> FlexFlow:
        """Checked as a whole, stored, and conversations told where it answers before the change commits."""
        kind = merged_integration_type(values, current)
        values["integration_type"] = kind
        sent = values.get("integration", {})
        # Integration.* fields sent update those stored; a new integration type starts from what was sent.
        kept = current.integration if current is not None and kind == current.integration_type else {}
        values["integration"] = {**kept, **sent}
        check_integration(kind, values["integration"])
        # Only a URL sent now: the one kept from before was checked when it was sent.
        await checked_url(context, sent.get("url") or None, parameter="Integration.Url")
        async with pool.acquire() as conn, conn.transaction():
            await check_targets(conn, account_sid=account_sid, kind=kind, integration=values["integration"])
            try:
                if current is None:
                    saved = await store.insert_flex_flow(conn, account_sid=account_sid, values=values)
                else:
                    await one(conn, account_sid, current.sid, for_update=True)
                    saved = await store.update_flex_flow(conn, sid=current.sid, values=values)
            except store.AddressTaken as error:
                raise address_taken(values, current) from error
            await publish_addresses(rpc, saved, account_sid=account_sid, flex_flow_sid=saved.sid)
        return saved

    @router.post("", status_code=201)
    async def create(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        saved = await save(account.sid, read_flex_flow_form(form, creating=True), None)
        return render.flex_flow(saved, base_of(context, request))

    @router.get("")
    async def list_(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        page, keyset = page_of(form)
        name = form.str("FriendlyName")
        rows = await store.list_flex_flows(pool, account_sid=account.sid, friendly_name=name, keyset=keyset)
        base = base_of(context, request)
        return listing(key="flex_flows", rows=rows, page=page, url=f"{base}{ROOT}",
                       draw=lambda row: render.flex_flow(row, base), filters=[("FriendlyName", name)])

    @router.get("/{sid}")
    async def fetch(request: Request, sid: str, account: Caller) -> dict[str, Any]:
        return render.flex_flow(await one(pool, account.sid, sid), base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        current = await one(pool, account.sid, sid)
        values = read_flex_flow_form(form, creating=False)
        saved = await save(account.sid, values, current) if values else current
        return render.flex_flow(saved, base_of(context, request))

    @router.delete("/{sid}", status_code=204)
    async def delete(sid: str, account: Caller) -> Response:
        async with pool.acquire() as conn, conn.transaction():
            found = await one(conn, account.sid, sid, for_update=True)
            await store.delete_flex_flow(conn, sid=found.sid)
            await publish_addresses(rpc, None, account_sid=account.sid, flex_flow_sid=found.sid)
        return Response(status_code=204)

    return router
