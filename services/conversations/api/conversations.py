"""`/v1/Conversations` and `/v1/Services/{ChatServiceSid}/Conversations`: create, fetch (SID or UniqueName),
list (State, StartDate, EndDate), update, delete."""

import re
from datetime import timedelta
from typing import Any

import asyncpg
from fastapi import APIRouter, Response

from services.conversations import render, store
from services.conversations.api.chat_users import authorize
from services.conversations.api.deps import FormData
from services.conversations.api.scope import Place, form_attributes, form_datetime, place_of
from services.conversations.domain.chat_permissions import ChatRequest
from services.conversations.domain.models import Conversation
from services.conversations.domain.states import SETTABLE_STATES, InvalidDuration, parse_duration
from services.conversations.handlers import conversations as use_cases
from shared.errors import TwilioError, invalid_parameter, not_found
from shared.forms import Form
from shared.paging import page_slice, read_page_request, render_page
from shared.runtime import ServiceContext

_MESSAGING_SERVICE = re.compile(r"^MG[0-9a-fA-F]{32}$")
_TIMER_ERRORS = {"Timers.Inactive": 50379, "Timers.Closed": 50380}


def _timer(form: Form, name: str) -> timedelta | str | None:
    """A timer parameter: a positive duration, None for PT0S (no timer), or "absent"."""
    value = form.str(name)
    if value is None:
        return "absent"
    try:
        duration = parse_duration(value)
    except InvalidDuration as error:
        raise invalid_parameter(f"Parameter '{name}' is not a valid ISO 8601 duration: {value}",
                                code=_TIMER_ERRORS[name]) from error
    return duration if duration > timedelta(0) else None


def conversation_values(form: Form, *, creating: bool) -> dict[str, Any]:
    """The conversation columns a create or update asks for (ConversationWithParticipants shares it)."""
    values: dict[str, Any] = {}
    if (name := form.str("FriendlyName", max_length=256)) is not None:
        values["friendly_name"] = name
    if (unique := form.str("UniqueName", max_length=256)) is not None:
        values["unique_name"] = unique or None
    if (attributes := form_attributes(form)) is not None:
        values["attributes"] = attributes
    if (messaging := form.str("MessagingServiceSid")) is not None:
        if not _MESSAGING_SERVICE.match(messaging):
            raise invalid_parameter("MessagingServiceSid must be a Messaging Service SID (MG…)")
        values["messaging_service_sid"] = messaging
    if (state := form.choice("State", SETTABLE_STATES)) is not None:
        values["state"] = state
    for parameter, column in (("Timers.Inactive", "timer_inactive"), ("Timers.Closed", "timer_closed")):
        timer = _timer(form, parameter)
        if timer != "absent":
            values[column] = timer
    if creating and ("timer_inactive" in values or "timer_closed" in values) and "state" not in values:
        raise invalid_parameter("State is required when a conversation is created with timers "
                                "(Timers.Inactive, Timers.Closed)", code=50382)
    for parameter, column in (("DateCreated", "date_created"), ("DateUpdated", "date_updated")):
        if (when := form_datetime(form, parameter)) is not None:
            values[column] = when
    return values


def unique_name_taken(error: asyncpg.UniqueViolationError, values: dict[str, Any]) -> TwilioError:
    if error.constraint_name == "conversations_unique_name":
        return TwilioError(409, 50353, f"Conversation with unique name {values.get('unique_name')} already exists")
    raise error


async def conversation_or_404(conn: store.Connection, place: Place, sid: str, *, for_update: bool = False) -> Conversation:
    found = await store.get_conversation(
        conn, account_sid=place.account_sid, sid_or_unique_name=sid, chat_service_sid=place.service_sid,
        for_update=for_update,
    )
    if found is None:
        raise not_found(f"Conversation {sid}")
    return found


def conversations_router(context: ServiceContext, root: str) -> APIRouter:
    router = APIRouter(prefix=f"{root}/Conversations")
    At = place_of(context)
    ChatUserAt = place_of(context, tokens=True)  # routes a chat user's access token may call too
    pool = context.pool

    @router.post("", status_code=201)
    async def create(form: FormData, place: At) -> dict[str, Any]:
        values = conversation_values(form, creating=True)
        async with pool.acquire() as conn, conn.transaction():
            try:
                async with conn.transaction():
                    created = await use_cases.create_conversation(
                        conn, account_sid=place.account_sid, chat_service_sid=place.service_sid, values=values,
                        action=place.action(),
                    )
            except asyncpg.UniqueViolationError as error:
                raise unique_name_taken(error, values) from error
        return render.conversation(created, place.root)

    @router.get("")
    async def list_(form: FormData, place: ChatUserAt) -> dict[str, Any]:
        page = read_page_request(form, max_size=100)
        state = form.choice("State", ["initializing", *SETTABLE_STATES])
        start, end = form_datetime(form, "StartDate"), form_datetime(form, "EndDate", end_of_day=True)
        # Twilio lists newest first when a date filter is given.
        descending = start is not None or end is not None
        rows = await store.list_conversations(
            pool, account_sid=place.account_sid, chat_service_sid=place.service_sid, state=state, start=start, end=end,
            after=page.after, before=page.before, limit=page.size + 1, descending=descending,
            participant_identity=place.identity,
        )
        rows, has_more = page_slice(rows, page)
        filters = [(name, value) for name, value in
                   (("StartDate", form.str("StartDate")), ("EndDate", form.str("EndDate")), ("State", state)) if value]
        return render_page(
            key="conversations", items=[render.conversation(row, place.root) for row in rows],
            keys=[[row.date_created.isoformat(), row.sid] for row in rows], request=page, has_more=has_more,
            url=f"{place.root.url}/Conversations", filters=filters,
        )

    @router.get("/{sid}")
    async def fetch(sid: str, place: ChatUserAt) -> dict[str, Any]:
        async with pool.acquire() as conn:
            conversation = await conversation_or_404(conn, place, sid)
            await authorize(conn, place, conversation, ChatRequest("read"))
        return render.conversation(conversation, place.root)

    @router.post("/{sid}")
    async def update(sid: str, form: FormData, place: ChatUserAt) -> dict[str, Any]:
        values = conversation_values(form, creating=False)
        async with pool.acquire() as conn, conn.transaction():
            conversation = await conversation_or_404(conn, place, sid, for_update=True)
            await authorize(conn, place, conversation, ChatRequest("edit_conversation", fields=frozenset(values)))
            try:
                async with conn.transaction():
                    updated = await use_cases.update_conversation(
                        conn, conversation=conversation, values=values, action=place.action()
                    )
            except asyncpg.UniqueViolationError as error:
                raise unique_name_taken(error, values) from error
        return render.conversation(updated, place.root)

    @router.delete("/{sid}", status_code=204)
    async def delete(sid: str, place: ChatUserAt) -> Response:
        async with pool.acquire() as conn, conn.transaction():
            conversation = await conversation_or_404(conn, place, sid, for_update=True)
            await authorize(conn, place, conversation, ChatRequest("delete_conversation"))
            await use_cases.remove_conversation(conn, conversation=conversation, action=place.action())
        return Response(status_code=204)

    return router

