"""`/v1/ParticipantConversations` (and under `/v1/Services/{ChatServiceSid}`): every conversation one chat
identity or one address takes part in."""

from typing import Any

from fastapi import APIRouter

from services.conversations import render, store
from services.conversations.api.chat_users import not_authorized
from services.conversations.api.deps import FormData
from services.conversations.api.scope import place_of
from shared.errors import invalid_parameter
from shared.paging import page_slice, read_page_request, render_page
from shared.runtime import ServiceContext


def participant_conversations_router(context: ServiceContext, root: str) -> APIRouter:
    router = APIRouter(prefix=f"{root}/ParticipantConversations")
    At = place_of(context, tokens=True)  # a chat user: its own identity only
    pool = context.pool

    @router.get("")
    async def list_(form: FormData, place: At) -> dict[str, Any]:
        identity, address = form.str("Identity") or None, form.str("Address") or None
        if identity is None and address is None:
            raise invalid_parameter("Either Identity or Address is required")
        if place.identity is not None and (address is not None or identity != place.identity):
            raise not_authorized("read other participants' conversations")
        page = read_page_request(form, max_size=100)
        rows = await store.list_participant_conversations(
            pool, account_sid=place.account_sid, chat_service_sid=place.service_sid, identity=identity, address=address,
            after=page.after, limit=page.size + 1,
        )
        items, has_more = page_slice(rows, page)
        filters = [(name, value) for name, value in (("Identity", identity), ("Address", address)) if value]
        return render_page(
            key="conversations",
            items=[render.participant_conversation(participant, conversation, place.root) for participant, conversation in items],
            keys=[participant.sid for participant, _ in items], request=page, has_more=has_more,
            url=f"{place.root.url}/ParticipantConversations", filters=filters,
        )

    return router
