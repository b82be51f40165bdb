"""`/flex-api/v1/Interactions`: interactions, their channel, its participants, invites and transfers."""

import json
from typing import Any

from fastapi import APIRouter, Request

from services.router import render_interactions as render
from services.router.api.deps import FormData, base_of, caller, listing, page_of
from services.router.api.flex_configuration import routing_defaults
from services.router.domain.interactions import InteractionChannel, json_parameter, parse_channel, parse_routing
from services.router.domain.models import Task
from services.router.handlers import interactions as handle
from services.router.store import interactions as store
from services.router.store import tasks
from services.router.store.base import Connection
from shared.errors import invalid_parameter, missing_parameter, not_found
from shared.forms import Form, read_json_body
from shared.rpc import RpcClient
from shared.runtime import ServiceContext

ROOT = "/flex-api/v1/Interactions"
PARTICIPANT_TYPES = ["supervisor", "customer", "external", "agent", "unknown"]


def interactions_router(context: ServiceContext, rpc: RpcClient) -> APIRouter:
    router = APIRouter(prefix=ROOT)
    Caller = caller(context)
    pool = context.pool

    async def first_task(conn: Connection, channel: InteractionChannel | None) -> Task | None:
        if channel is None:
            return None
        linked = await store.tasks_of_channel(conn, channel_sid=channel.sid)
        if not linked:
            return None
        return await tasks.get_task(conn, workspace_sid=linked[0][0], sid=linked[0][1])

    async def interaction_json(conn: Connection, account_sid: str, sid: str, base: str) -> dict[str, Any]:
        found = await store.get_interaction(conn, account_sid=account_sid, sid=sid)
        if found is None:
            raise not_found(f"Interaction {sid}")
        channel = await store.channel_of_interaction(conn, interaction_sid=found.sid)
        return render.interaction(found, channel, await first_task(conn, channel), base)

    @router.post("")
    async def create(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        channel = parse_channel(json_parameter(form.str("Channel", required=True), "Channel"))
        if form.str("Routing") is None:
            raise missing_parameter("Routing")
        routing = parse_routing(await with_configured_workspace(
            pool, account.sid, json_parameter(form.str("Routing"), "Routing")),
            agent_initiated=channel.initiated_by == "agent")
        context_sid = form.str("InteractionContextSid")
        if context_sid is not None and not (context_sid.startswith("HQ") and len(context_sid) == 34):
            raise invalid_parameter("InteractionContextSid must be an Interaction Context SID (HQ…)")
        base = base_of(context, request)
        created = await handle.create_interaction(
            pool, rpc, account_sid=account.sid, channel=channel, routing=routing, interaction_context_sid=context_sid,
            webhook_ttid=form.str("WebhookTtid", max_length=256), base=base)
        return render.interaction(created.interaction, created.channel, created.task, base)

    @router.get("/{sid}")
    async def fetch(request: Request, sid: str, account: Caller) -> dict[str, Any]:
        return await interaction_json(pool, account.sid, sid, base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        async with pool.acquire() as conn, conn.transaction():
            if await store.get_interaction(conn, account_sid=account.sid, sid=sid) is None:
                raise not_found(f"Interaction {sid}")
            if (ttid := form.str("WebhookTtid", max_length=256)) is not None:
                await store.update_interaction(conn, sid=sid, values={"webhook_ttid": ttid})
            return await interaction_json(conn, account.sid, sid, base_of(context, request))

    @router.get("/{interaction_sid}/Channels")
    async def list_channels(request: Request, interaction_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        if await store.get_interaction(pool, account_sid=account.sid, sid=interaction_sid) is None:
            raise not_found(f"Interaction {interaction_sid}")
        page, _ = page_of(form)
        channel = await store.channel_of_interaction(pool, interaction_sid=interaction_sid)
        base = base_of(context, request)
        rows = [channel] if channel is not None and page.after is None and page.before is None else []
        return listing(key="channels", rows=rows, page=page, url=f"{base}{ROOT}/{interaction_sid}/Channels",
                       draw=lambda row: render.channel(row, base))

    @router.get("/{interaction_sid}/Channels/{sid}")
    async def fetch_channel(request: Request, interaction_sid: str, sid: str, account: Caller) -> dict[str, Any]:
        found = await handle.channel_or_404(pool, account_sid=account.sid, interaction_sid=interaction_sid, sid=sid)
        return render.channel(found, base_of(context, request))

    @router.post("/{interaction_sid}/Channels/{sid}")
    async def update_channel(request: Request, interaction_sid: str, sid: str, form: FormData,
                             account: Caller) -> dict[str, Any]:
        status = form.choice("Status", ["closed", "inactive"])
        if status is None:
            raise missing_parameter("Status")
        routing = json_parameter(form.str("Routing"), "Routing")
        routing_status = routing.get("status")
        if routing_status not in (None, "closed"):
            raise invalid_parameter("Routing.status may only be closed")
        base = base_of(context, request)
        async with pool.acquire() as conn, conn.transaction():
            channel = await handle.channel_or_404(conn, account_sid=account.sid, interaction_sid=interaction_sid,
                                                  sid=sid, for_update=True)
            closed = await handle.close_channel(conn, channel, status=status, routing_closed=routing_status == "closed",
                                                base=base)
        return render.channel(closed, base)

    @router.get("/{interaction_sid}/Channels/{channel_sid}/Participants")
    async def list_participants(request: Request, interaction_sid: str, channel_sid: str, form: FormData,
                                account: Caller) -> dict[str, Any]:
        channel = await handle.channel_or_404(pool, account_sid=account.sid, interaction_sid=interaction_sid,
                                              sid=channel_sid)
        page, keyset = page_of(form)
        rows = await store.list_participants(pool, channel_sid=channel.sid, keyset=keyset)
        base = base_of(context, request)
        return listing(key="participants", rows=rows, page=page,
                       url=f"{render.channel_url(base, channel)}/Participants",
                       draw=lambda row: render.participant(row, base))

    @router.post("/{interaction_sid}/Channels/{channel_sid}/Participants")
    async def create_participant(request: Request, interaction_sid: str, channel_sid: str, form: FormData,
                                 account: Caller) -> dict[str, Any]:
        kind = form.choice("Type", PARTICIPANT_TYPES)
        if kind is None:
            raise missing_parameter("Type")
        media = json_parameter(form.str("MediaProperties", required=True), "MediaProperties")
        routing = json_parameter(form.str("RoutingProperties"), "RoutingProperties")
        identity = media.get("identity") or media.get("address") or routing.get("worker_sid")
        async with pool.acquire() as conn, conn.transaction():
            channel = await handle.channel_or_404(conn, account_sid=account.sid, interaction_sid=interaction_sid,
                                                  sid=channel_sid, for_update=True)
            added = await handle.add_channel_participant(conn, channel, type=kind, identity=identity,
                                                         media_properties=json.dumps(media), routing=routing)
        return render.participant(added, base_of(context, request))

    @router.post("/{interaction_sid}/Channels/{channel_sid}/Participants/{sid}")
    async def update_participant(request: Request, interaction_sid: str, channel_sid: str, sid: str, form: FormData,
                                 account: Caller) -> dict[str, Any]:
        status = form.choice("Status", ["closed", "wrapup"])
        if status is None:
            raise missing_parameter("Status")
        base = base_of(context, request)
        async with pool.acquire() as conn, conn.transaction():
            channel = await handle.channel_or_404(conn, account_sid=account.sid, interaction_sid=interaction_sid,
                                                  sid=channel_sid, for_update=True)
            participant = await store.get_participant(conn, channel_sid=channel.sid, sid=sid, for_update=True)
            if participant is None:
                raise not_found(f"Interaction Channel Participant {sid}")
            updated = await handle.leave(conn, channel, participant, status=status, base=base)
        return render.participant(updated, base)

    @router.get("/{interaction_sid}/Channels/{channel_sid}/Invites")
    async def list_invites(request: Request, interaction_sid: str, channel_sid: str, form: FormData,
                           account: Caller) -> dict[str, Any]:
        channel = await handle.channel_or_404(pool, account_sid=account.sid, interaction_sid=interaction_sid,
                                              sid=channel_sid)
        page, keyset = page_of(form)
        rows = await store.list_invites(pool, channel_sid=channel.sid, keyset=keyset)
        base = base_of(context, request)
        return listing(key="invites", rows=rows, page=page, url=f"{render.channel_url(base, channel)}/Invites",
                       draw=lambda row: render.invite(row, base))

    @router.post("/{interaction_sid}/Channels/{channel_sid}/Invites")
    async def create_invite(request: Request, interaction_sid: str, channel_sid: str, form: FormData,
                            account: Caller) -> dict[str, Any]:
        raw = form.str("Routing", required=True)
        assert raw is not None
        routing = parse_routing(json_parameter(raw, "Routing"))
        base = base_of(context, request)
        async with pool.acquire() as conn, conn.transaction():
            channel = await handle.channel_or_404(conn, account_sid=account.sid, interaction_sid=interaction_sid,
                                                  sid=channel_sid, for_update=True)
            made = await handle.invite(conn, channel, routing=routing, raw_routing=raw, base=base)
        return render.invite(made, base)

    @router.post("/{interaction_sid}/Channels/{channel_sid}/Transfers", status_code=201)
    async def create_transfer(request: Request, interaction_sid: str, channel_sid: str,
                              account: Caller) -> dict[str, Any]:
        body = await transfer_body(request)
        kind = body.get("type", "warm")
        if kind not in ("warm", "cold"):
            raise invalid_parameter("type must be warm or cold")
        if not isinstance(body.get("from"), str) or not isinstance(body.get("to"), str):
            raise invalid_parameter("from (an agent participant UT…) and to (WK… or WQ…) are required")
        base = base_of(context, request)
        async with pool.acquire() as conn, conn.transaction():
            channel = await handle.channel_or_404(conn, account_sid=account.sid, interaction_sid=interaction_sid,
                                                  sid=channel_sid, for_update=True)
            source = await store.get_participant(conn, channel_sid=channel.sid, sid=body["from"])
            if source is None:
                raise invalid_parameter(f"Participant {body['from']} is not a participant of this channel")
            made = await handle.transfer(conn, channel, kind=kind, from_participant=source, to=body["to"],
                                         workflow_sid=body.get("workflow_sid"), base=base)
        return render.transfer(made, base)

    @router.get("/{interaction_sid}/Channels/{channel_sid}/Transfers/{sid}")
    async def fetch_transfer(request: Request, interaction_sid: str, channel_sid: str, sid: str,
                             account: Caller) -> dict[str, Any]:
        channel = await handle.channel_or_404(pool, account_sid=account.sid, interaction_sid=interaction_sid,
                                              sid=channel_sid)
        found = await store.get_transfer(pool, channel_sid=channel.sid, sid=sid)
        if found is None:
            raise not_found(f"Transfer {sid}")
        return render.transfer(found, base_of(context, request))

    @router.post("/{interaction_sid}/Channels/{channel_sid}/Transfers/{sid}")
    async def update_transfer(request: Request, interaction_sid: str, channel_sid: str, sid: str,
                              account: Caller) -> dict[str, Any]:
        status = (await transfer_body(request)).get("status")
        if status not in ("completed", "failed"):
            raise invalid_parameter("status must be completed or failed")
        base = base_of(context, request)
        async with pool.acquire() as conn, conn.transaction():
            channel = await handle.channel_or_404(conn, account_sid=account.sid, interaction_sid=interaction_sid,
                                                  sid=channel_sid, for_update=True)
            found = await store.get_transfer(conn, channel_sid=channel.sid, sid=sid)
            if found is None:
                raise not_found(f"Transfer {sid}")
            ended = await handle.end_transfer(conn, found, status=status, base=base)
        return render.transfer(ended, base)

    return router


async def with_configured_workspace(pool: Any, account_sid: str, routing: dict[str, Any]) -> dict[str, Any]:
    """Routing without a workspace routes through the Flex Configuration's workspace and target workflow."""
    properties = routing.get("properties")
    if not isinstance(properties, dict) or properties.get("workspace_sid"):
        return routing
    async with pool.acquire() as conn:
        defaults = await routing_defaults(conn, account_sid)
    if defaults["workspace_sid"] is None:
        return routing
    filled = {"workspace_sid": defaults["workspace_sid"], **properties}
    if not filled.get("workflow_sid") and not filled.get("worker_sid") and defaults["workflow_sid"]:
        filled["workflow_sid"] = defaults["workflow_sid"]
    return {**routing, "properties": filled}


async def transfer_body(request: Request) -> dict[str, Any]:
    """Transfers take JSON (Twilio's OpenAPI); a form is accepted too."""
    if request.headers.get("content-type", "").startswith("application/json"):
        parsed = await read_json_body(request)
        if parsed is not None and not isinstance(parsed, dict):
            raise invalid_parameter("The body must be a JSON object")
        return parsed or {}
    form = await Form.read(request)
    return {key.lower(): value for key, value in form.as_pairs()}
