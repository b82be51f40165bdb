"""`/conversations/v1/Conversations` and its participants and messages (reading; writes grow here)."""

from typing import Any

from fastapi import APIRouter, Request

from services.conversations import render, store
from services.conversations.api.deps import FormData, base_of, caller
from services.conversations.domain.models import Conversation
from shared.errors import not_found
from shared.paging import read_page_request, render_page
from shared.runtime import ServiceContext

PATH = "/conversations/v1/Conversations"
STATES = ["active", "inactive", "closed"]


def conversations_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=PATH)
    Caller = caller(context)
    pool = context.pool

    async def conversation_or_404(account_sid: str, sid: str) -> Conversation:
        found = await store.get_conversation(pool, account_sid=account_sid, sid_or_unique_name=sid)
        if found is None:
            raise not_found(f"Conversation {sid}")
        return found

    @router.get("")
    async def list_(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        page = read_page_request(form, max_size=100)
        state = form.choice("State", STATES)
        rows = await store.list_conversations(
            pool, account_sid=account.sid, state=state, after=page.after, before=page.before, limit=page.size + 1
        )
        has_more = len(rows) > page.size
        rows = rows[-page.size:] if page.before is not None else rows[: page.size]
        base = base_of(context, request)
        return render_page(
            key="conversations", items=[render.conversation(row, base) for row in rows],
            keys=[[iso_micro(row), row.sid] for row in rows], request=page, has_more=has_more, url=f"{base}{PATH}",
            filters=[("State", state)] if state else None,
        )

    @router.get("/{sid}")
    async def fetch(request: Request, sid: str, account: Caller) -> dict[str, Any]:
        return render.conversation(await conversation_or_404(account.sid, sid), base_of(context, request))

    @router.get("/{sid}/Participants")
    async def list_participants(request: Request, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        conversation = await conversation_or_404(account.sid, sid)
        page = read_page_request(form, max_size=100)
        rows = await store.list_participants(pool, conversation_sid=conversation.sid, after=page.after, limit=page.size + 1)
        base = base_of(context, request)
        items = rows[: page.size]
        return render_page(
            key="participants", items=[render.participant(row, base) for row in items], keys=[row.sid for row in items],
            request=page, has_more=len(rows) > page.size, url=f"{base}{PATH}/{conversation.sid}/Participants",
        )

    @router.get("/{sid}/Participants/{participant_sid}")
    async def fetch_participant(request: Request, sid: str, participant_sid: str, account: Caller) -> dict[str, Any]:
        conversation = await conversation_or_404(account.sid, sid)
        found = await store.get_participant(pool, conversation_sid=conversation.sid, sid=participant_sid)
        if found is None:
            raise not_found(f"Participant {participant_sid}")
        return render.participant(found, base_of(context, request))

    @router.get("/{sid}/Messages")
    async def list_messages(request: Request, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        conversation = await conversation_or_404(account.sid, sid)
        page = read_page_request(form, max_size=100)
        order = form.choice("Order", ["asc", "desc"]) or "asc"
        rows = await store.list_messages(
            pool, conversation_sid=conversation.sid, after=page.after, before=page.before, limit=page.size + 1,
            descending=order == "desc",
        )
        has_more = len(rows) > page.size
        rows = rows[-page.size:] if page.before is not None else rows[: page.size]
        base = base_of(context, request)
        return render_page(
            key="messages", items=[render.message(row, base) for row in rows], keys=[row.index for row in rows],
            request=page, has_more=has_more, url=f"{base}{PATH}/{conversation.sid}/Messages",
            filters=[("Order", order)],
        )

    @router.get("/{sid}/Messages/{message_sid}")
    async def fetch_message(request: Request, sid: str, message_sid: str, account: Caller) -> dict[str, Any]:
        conversation = await conversation_or_404(account.sid, sid)
        found = await store.get_message(pool, conversation_sid=conversation.sid, sid_or_index=message_sid)
        if found is None:
            raise not_found(f"Message {message_sid}")
        return render.message(found, base_of(context, request))

    return router


def iso_micro(conversation: Conversation) -> str:
    """The keyset needs the full timestamp precision, not the API's whole seconds."""
    return conversation.date_created.isoformat()
