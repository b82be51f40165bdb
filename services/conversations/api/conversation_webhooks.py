"""`…/Conversations/{ConversationSid}/Webhooks`: at most five scoped hooks per conversation (webhook, trigger,
studio); ReplayAfter re-sends the messages after that index to a new hook."""

from typing import Any

from fastapi import APIRouter, Response

from services.conversations import render, store
from services.conversations.api.conversations import conversation_or_404
from services.conversations.api.deps import FormData, checked_url
from services.conversations.api.scope import Place, place_of
from services.conversations.domain.models import Conversation, ScopedWebhook
from services.conversations.domain.webhook_names import POST_EVENTS, PRE_EVENTS
from services.conversations.handlers import webhooks as use_cases
from shared.errors import TwilioError, invalid_parameter, not_found
from shared.forms import Form
from shared.paging import page_slice, read_page_request, render_page
from shared.runtime import ServiceContext

MAX_SCOPED_WEBHOOKS = 5
TARGETS = ["webhook", "trigger", "studio"]


async def _configuration(context: ServiceContext, form: Form, target: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if (url := form.str("Configuration.Url")) is not None:
        values["url"] = await checked_url(context, url, parameter="Configuration.Url")
    if (method := form.choice("Configuration.Method", ["get", "post"])) is not None:
        values["method"] = method.upper()
    if (filters := form.list("Configuration.Filters")) is not None:
        unknown = [name for name in filters if name not in POST_EVENTS and name not in PRE_EVENTS]
        if unknown:
            raise invalid_parameter(f"Invalid Configuration.Filters: {', '.join(unknown)}")
        values["filters"] = filters
    if (triggers := form.list("Configuration.Triggers")) is not None:
        values["triggers"] = triggers
    if (flow := form.str("Configuration.FlowSid")) is not None:
        if not (flow.startswith("FW") and len(flow) == 34):
            raise invalid_parameter("Configuration.FlowSid must be a Flow SID (FW…)")
        values["flow_sid"] = flow
    return values


def _require_complete(target: str, values: dict[str, Any]) -> None:
    if target in ("webhook", "trigger") and not values.get("url"):
        raise invalid_parameter(f"Configuration.Url is required for Target {target}")
    if target == "studio" and not values.get("flow_sid"):
        raise invalid_parameter("Configuration.FlowSid is required for Target studio")


async def webhook_or_404(conn: store.Connection, conversation: Conversation, sid: str) -> ScopedWebhook:
    found = await store.get_scoped_webhook(conn, conversation_sid=conversation.sid, sid=sid)
    if found is None or found.origin != "api":
        raise not_found(f"Webhook {sid}")
    return found


def conversation_webhooks_router(context: ServiceContext, root: str) -> APIRouter:
    router = APIRouter(prefix=f"{root}/Conversations/{{ConversationSid}}/Webhooks")
    At = place_of(context)
    pool = context.pool

    def rendered(webhook: ScopedWebhook, place: Place) -> dict[str, Any]:
        return render.scoped_webhook(webhook, place.root, chat_service_sid=place.service_sid)

    @router.post("", status_code=201)
    async def create(ConversationSid: str, form: FormData, place: At) -> dict[str, Any]:
        target = form.choice("Target", TARGETS)
        if target is None:
            raise invalid_parameter("Missing required parameter Target in the post body")
        values = await _configuration(context, form, target)
        if target != "studio":
            values.setdefault("method", "POST")
        _require_complete(target, values)
        replay_after = form.int("Configuration.ReplayAfter", minimum=0)
        async with pool.acquire() as conn, conn.transaction():
            conversation = await conversation_or_404(conn, place, ConversationSid, for_update=True)
            if await store.count_scoped_webhooks(conn, conversation_sid=conversation.sid) >= MAX_SCOPED_WEBHOOKS:
                raise TwilioError(400, 90010, f"A conversation has at most {MAX_SCOPED_WEBHOOKS} webhooks")
            webhook = await use_cases.add_scoped_webhook(
                conn, conversation=conversation, target=target, values=values, replay_after=replay_after,
            )
        return rendered(webhook, place)

    @router.get("")
    async def list_(ConversationSid: str, form: FormData, place: At) -> dict[str, Any]:
        page = read_page_request(form, max_size=50)
        conversation = await conversation_or_404(pool, place, ConversationSid)
        rows = [row for row in await store.list_scoped_webhooks(pool, conversation_sid=conversation.sid, after=page.after)
                if row.origin == "api"]
        items, has_more = page_slice(rows, page)
        return render_page(
            key="webhooks", items=[rendered(row, place) for row in items], keys=[row.sid for row in items],
            request=page, has_more=has_more, url=f"{place.root.url}/Conversations/{conversation.sid}/Webhooks",
        )

    @router.get("/{sid}")
    async def fetch(ConversationSid: str, sid: str, place: At) -> dict[str, Any]:
        conversation = await conversation_or_404(pool, place, ConversationSid)
        return rendered(await webhook_or_404(pool, conversation, sid), place)

    @router.post("/{sid}")
    async def update(ConversationSid: str, sid: str, form: FormData, place: At) -> dict[str, Any]:
        async with pool.acquire() as conn, conn.transaction():
            conversation = await conversation_or_404(conn, place, ConversationSid)
            webhook = await webhook_or_404(conn, conversation, sid)
            values = await _configuration(context, form, webhook.target)
            merged = {"url": webhook.url, "flow_sid": webhook.flow_sid} | values
            _require_complete(webhook.target, merged)
            updated = await store.update_scoped_webhook(conn, sid=webhook.sid, values=values) if values else webhook
        return rendered(updated, place)

    @router.delete("/{sid}", status_code=204)
    async def delete(ConversationSid: str, sid: str, place: At) -> Response:
        async with pool.acquire() as conn, conn.transaction():
            conversation = await conversation_or_404(conn, place, ConversationSid)
            webhook = await webhook_or_404(conn, conversation, sid)
            await store.delete_scoped_webhook(conn, sid=webhook.sid)
        return Response(status_code=204)

    return router
