"""`/flex-api/v1/WebChannels`: a web chat started through a web-type Flex Flow (its SID is the conversation's).

Create makes the conversation with the customer as a chat participant, then hands it to the Flex Flow's
integration: `studio` runs the flow on the customer's first message, `external` posts its messages to the
URL, `task` creates the interaction and its task now (or on the customer's first message with
Integration.CreationOnMessage). `ChatStatus=inactive` ends the chat: its interaction closes (tasks end) and
so does the conversation; delete does the same and forgets the web channel.
"""

import logging
from typing import Any

from fastapi import APIRouter, Request, Response

from services.router import render_flex as render
from services.router.api.deps import FormData, base_of, caller, listing, page_of
from services.router.domain.flex_flows import WebChannel
from services.router.domain.interactions import parse_channel
from services.router.handlers import flex_flows as cases
from services.router.handlers.interactions import record_failed
from services.router.store import flex_flows as store
from services.router.store.base import Connection
from shared.errors import TwilioError, invalid_parameter, not_found
from shared.rpc import RpcClient
from shared.runtime import ServiceContext

ROOT = render.WEB_CHANNELS
log = logging.getLogger(__name__)


def web_channels_router(context: ServiceContext, rpc: RpcClient) -> APIRouter:
    router = APIRouter(prefix=ROOT)
    Caller = caller(context)
    pool = context.pool

    async def one(conn: Connection, account_sid: str, sid: str) -> WebChannel:
        found = await store.get_web_channel(conn, account_sid=account_sid, sid=sid)
        if found is None:
            raise not_found(f"WebChannel {sid}")
        return found

    @router.post("", status_code=201)
    async def create(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        flow_sid = form.required("FlexFlowSid")
        identity = form.required("Identity", max_length=256)
        customer = form.required("CustomerFriendlyName", max_length=256)
        chat_name = form.required("ChatFriendlyName", max_length=256)
        flow = await store.get_flex_flow(pool, account_sid=account.sid, sid=flow_sid)
        if flow is None:
            raise invalid_parameter(f"FlexFlowSid {flow_sid} is not a Flex Flow of this account")
        if flow.channel_type != "web" or not flow.enabled:
            raise invalid_parameter(f"Flex Flow {flow.sid} is not an enabled Flex Flow of ChannelType web")
        prepared = await cases.start_web_channel(
            rpc, flow, account_sid=account.sid, identity=identity, customer_friendly_name=customer,
            chat_friendly_name=chat_name, chat_unique_name=form.str("ChatUniqueName", max_length=256),
            pre_engagement_data=form.str("PreEngagementData"))
        assert prepared.conversation_sid is not None
        made = await store.insert_web_channel(pool, sid=prepared.conversation_sid, account_sid=account.sid,
                                              flex_flow_sid=flow.sid, identity=identity)
        base = base_of(context, request)
        if flow.integration_type == "task" and not cases.creates_task_on_message(flow):
            try:
                await cases.route_conversation(pool, rpc, flow, account_sid=account.sid,
                                               conversation_sid=made.sid, channel_type="web", base=base)
            except TwilioError as error:  # the chat exists: its failed interaction channel says why no task
                await record_failed(pool, account_sid=account.sid, channel=parse_channel({
                    "type": "web", "initiated_by": "customer", "properties": {"media_channel_sid": made.sid}}),
                    workspace_sid=flow.integration.get("workspace_sid"), error=error)
                log.warning("web channel task not created: %s", error.message, extra={"conversation_sid": made.sid})
        return render.web_channel(made, base)

    @router.get("")
    async def list_(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        page, keyset = page_of(form)
        rows = await store.list_web_channels(pool, account_sid=account.sid, keyset=keyset)
        base = base_of(context, request)
        return listing(key="flex_chat_channels", rows=rows, page=page, url=f"{base}{ROOT}",
                       draw=lambda row: render.web_channel(row, base))

    @router.get("/{sid}")
    async def fetch(request: Request, sid: str, account: Caller) -> dict[str, Any]:
        return render.web_channel(await one(pool, account.sid, sid), base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        status = form.choice("ChatStatus", ["inactive"])
        post_engagement = form.str("PostEngagementData")
        base = base_of(context, request)
        async with pool.acquire() as conn, conn.transaction():
            found = await one(conn, account.sid, sid)
            if post_engagement is not None:
                found = await store.update_web_channel(conn, sid=found.sid, post_engagement_data=post_engagement)
            if status == "inactive":
                await cases.end_web_chat(conn, account_sid=account.sid, conversation_sid=found.sid, base=base)
        return render.web_channel(found, base)

    @router.delete("/{sid}", status_code=204)
    async def delete(request: Request, sid: str, account: Caller) -> Response:
        async with pool.acquire() as conn, conn.transaction():
            found = await one(conn, account.sid, sid)
            await cases.end_web_chat(conn, account_sid=account.sid, conversation_sid=found.sid,
                                     base=base_of(context, request))
            await store.delete_web_channel(conn, sid=found.sid)
        return Response(status_code=204)

    return router
