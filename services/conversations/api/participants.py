"""`…/Conversations/{ConversationSid}/Participants`: chat identities and SMS/WhatsApp bindings."""

from typing import Any

from fastapi import APIRouter, Response

from services.conversations import render, store
from services.conversations.api.chat_users import authorize
from services.conversations.api.conversations import conversation_or_404
from services.conversations.api.deps import FormData
from services.conversations.api.scope import Place, form_attributes, form_datetime, place_of
from services.conversations.domain.chat_permissions import ChatRequest
from services.conversations.domain.models import Conversation, Participant, binding_problem, channel_of
from services.conversations.handlers import participants as use_cases
from shared.errors import invalid_parameter, not_found
from shared.forms import Form
from shared.paging import page_slice, read_page_request, render_page
from shared.runtime import ServiceContext


def _role_sid(form: Form) -> str | None:
    role = form.str("RoleSid")
    if role is not None and not (role.startswith("RL") and len(role) == 34):
        raise invalid_parameter("RoleSid must be a Role SID (RL…)")
    return role


def _require_deliverable(address: str, proxy: str) -> None:
    if (problem := binding_problem(address, proxy)) is not None:
        raise invalid_parameter(problem, code=50402)


def participant_values(form: Form, *, prefix: str = "") -> dict[str, Any]:
    """What a new participant is: an Identity (chat) or an Address + ProxyAddress pair (SMS/WhatsApp)."""
    identity = form.str(f"{prefix}Identity", max_length=256) or None
    address = form.str(f"{prefix}MessagingBinding.Address") or None
    proxy = form.str(f"{prefix}MessagingBinding.ProxyAddress") or None
    projected = form.str(f"{prefix}MessagingBinding.ProjectedAddress") or None
    if identity is None and address is None:
        raise invalid_parameter("A participant needs Identity or MessagingBinding.Address", code=50402)
    if address is not None and identity is not None:
        raise invalid_parameter("A participant has either Identity or MessagingBinding.Address, not both", code=50402)
    if address is not None and proxy is None:
        raise invalid_parameter("MessagingBinding.ProxyAddress is required with MessagingBinding.Address", code=50402)
    if projected is not None and identity is None:
        raise invalid_parameter("MessagingBinding.ProjectedAddress goes with Identity", code=50402)
    values: dict[str, Any] = {"identity": identity, "projected_address": projected, "role_sid": _role_sid(form),
                              "attributes": form_attributes(form, f"{prefix}Attributes") or "{}"}
    if address is not None and proxy is not None:
        _require_deliverable(address, proxy)
        values.update(binding_type=channel_of(address), address=address, proxy_address=proxy)
    elif identity is not None:
        values["binding_type"] = "chat"
    for parameter, column in (("DateCreated", "date_created"), ("DateUpdated", "date_updated")):
        values[column] = form_datetime(form, f"{prefix}{parameter}")
    return values


def _update_values(form: Form, participant: Participant) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if (attributes := form_attributes(form)) is not None:
        values["attributes"] = attributes
    if (role := _role_sid(form)) is not None:
        values["role_sid"] = role
    if (identity := form.str("Identity", max_length=256)) is not None:
        if participant.address is not None:
            raise invalid_parameter("An SMS/WhatsApp participant can't take an Identity", code=50402)
        values["identity"] = identity
    if (proxy := form.str("MessagingBinding.ProxyAddress")) is not None:
        if participant.address is None:
            raise invalid_parameter("Only an SMS/WhatsApp participant has a proxy address", code=50402)
        _require_deliverable(participant.address, proxy)
        values["proxy_address"] = proxy
    if (projected := form.str("MessagingBinding.ProjectedAddress")) is not None:
        values["projected_address"] = projected
    if (index := form.int("LastReadMessageIndex", minimum=0)) is not None:
        values["last_read_message_index"] = index
    if (read_at := form_datetime(form, "LastReadTimestamp")) is not None:
        values["last_read_timestamp"] = read_at
    for parameter, column in (("DateCreated", "date_created"), ("DateUpdated", "date_updated")):
        if (when := form_datetime(form, parameter)) is not None:
            values[column] = when
    return values


async def participant_or_404(conn: store.Connection, conversation: Conversation, sid: str) -> Participant:
    found = await store.get_participant(conn, conversation_sid=conversation.sid, sid=sid)
    if found is None:
        raise not_found(f"Participant {sid}")
    return found


def participants_router(context: ServiceContext, root: str) -> APIRouter:
    router = APIRouter(prefix=f"{root}/Conversations/{{ConversationSid}}/Participants")
    At = place_of(context, tokens=True)  # chat users too, as their conversation role permits
    pool = context.pool

    def rendered(participant: Participant, place: Place) -> dict[str, Any]:
        return render.participant(participant, place.root, chat_service_sid=place.service_sid)

    @router.post("", status_code=201)
    async def create(ConversationSid: str, form: FormData, place: At) -> dict[str, Any]:
        values = participant_values(form)
        async with pool.acquire() as conn, conn.transaction():
            conversation = await conversation_or_404(conn, place, ConversationSid, for_update=True)
            await authorize(conn, place, conversation, ChatRequest(
                "add_participant", non_chat=values.get("address") is not None, owner=values.get("identity"),
                fields=frozenset(name for name in ("role_sid", "date_created", "date_updated") if values.get(name))))
            participant = await use_cases.add_participant(
                conn, conversation=conversation, values=values, action=place.action()
            )
        return rendered(participant, place)

    @router.get("")
    async def list_(ConversationSid: str, form: FormData, place: At) -> dict[str, Any]:
        async with pool.acquire() as conn:
            conversation = await conversation_or_404(conn, place, ConversationSid)
            await authorize(conn, place, conversation, ChatRequest("read"))
        page = read_page_request(form, max_size=100)
        rows = await store.list_participants(pool, conversation_sid=conversation.sid, after=page.after, limit=page.size + 1)
        items, has_more = page_slice(rows, page)
        return render_page(
            key="participants", items=[rendered(row, place) for row in items], keys=[row.sid for row in items],
            request=page, has_more=has_more,
            url=f"{place.root.url}/Conversations/{conversation.sid}/Participants",
        )

    @router.get("/{sid}")
    async def fetch(ConversationSid: str, sid: str, place: At) -> dict[str, Any]:
        async with pool.acquire() as conn:
            conversation = await conversation_or_404(conn, place, ConversationSid)
            await authorize(conn, place, conversation, ChatRequest("read"))
            return rendered(await participant_or_404(conn, conversation, sid), place)

    @router.post("/{sid}")
    async def update(ConversationSid: str, sid: str, form: FormData, place: At) -> dict[str, Any]:
        async with pool.acquire() as conn, conn.transaction():
            conversation = await conversation_or_404(conn, place, ConversationSid)
            participant = await participant_or_404(conn, conversation, sid)
            values = _update_values(form, participant)
            await authorize(conn, place, conversation, ChatRequest("edit_participant", fields=frozenset(values),
                                                                   owner=participant.identity))
            updated = await use_cases.update_participant(
                conn, conversation=conversation, participant=participant, values=values, action=place.action(),
            )
        return rendered(updated, place)

    @router.delete("/{sid}", status_code=204)
    async def delete(ConversationSid: str, sid: str, place: At) -> Response:
        async with pool.acquire() as conn, conn.transaction():
            conversation = await conversation_or_404(conn, place, ConversationSid)
            participant = await participant_or_404(conn, conversation, sid)
            await authorize(conn, place, conversation, ChatRequest("remove_participant", owner=participant.identity))
            await use_cases.remove_participant(conn, conversation=conversation, participant=participant,
                                               action=place.action())
        return Response(status_code=204)

    return router
