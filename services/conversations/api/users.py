"""`/v1/Users` and `/v1/Services/{ChatServiceSid}/Users` (SID or identity in the path), with each user's
`Conversations` (UserConversations): list, fetch, update (notification level, last read), delete (leave)."""

from typing import Any

from fastapi import APIRouter, Response

from services.conversations import store as conversations_store
from services.conversations.api.chat_users import authorize
from services.conversations.api.deps import FormData
from services.conversations.api.identity_deps import dated_page, page_of, role_reference, service_place_of
from services.conversations.api.scope import Place, form_attributes, form_datetime
from services.conversations.domain.chat_permissions import ChatRequest
from services.conversations.domain.identity import User, UserConversation
from services.conversations.handlers import participants as participant_cases
from services.conversations.handlers import users as use_cases
from services.conversations.render import identity as render
from services.conversations.store import identity as store
from shared.errors import TwilioError, conflict, not_found
from shared.forms import Form
from shared.paging import page_slice, read_page_request, render_page
from shared.runtime import ServiceContext


async def user_values(conn: store.Connection, form: Form, place: Place) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if (name := form.str("FriendlyName", max_length=256)) is not None:
        values["friendly_name"] = name
    if (attributes := form_attributes(form)) is not None:
        values["attributes"] = attributes
    role = await role_reference(conn, form, "RoleSid", chat_service_sid=place.service_sid, role_type="service")
    if role is not None:
        values["role_sid"] = role.sid
    return values


async def user_or_404(conn: store.Connection, place: Place, sid: str, *, for_update: bool = False) -> User:
    found = await store.get_user(conn, chat_service_sid=place.service_sid, sid_or_identity=sid, for_update=for_update)
    if found is None:
        raise not_found(f"User {sid}")
    return found


def identity_taken(identity: str) -> TwilioError:
    return conflict(f"User with identity {identity} already exists", 50201)


def users_router(context: ServiceContext, root: str) -> APIRouter:
    router = APIRouter(prefix=f"{root}/Users")
    At = service_place_of(context)
    SelfAt = service_place_of(context, tokens=True)  # a chat user's own conversations (Users/{identity}/…)
    pool = context.pool

    async def self_or_404(conn: store.Connection, place: Place, sid: str) -> User:
        """The user; a chat user sees only itself (anyone else does not exist for it)."""
        user = await user_or_404(conn, place, sid)
        if place.identity is not None and user.identity != place.identity:
            raise not_found(f"User {sid}")
        return user

    @router.post("", status_code=201)
    async def create(form: FormData, place: At) -> dict[str, Any]:
        identity = form.required("Identity", max_length=256)
        async with pool.acquire() as conn, conn.transaction():
            values = await user_values(conn, form, place)
            if "role_sid" not in values:
                service = await store.get_service(conn, account_sid=place.account_sid, sid=place.service_sid)
                if service is not None and service.default_chat_service_role_sid is not None:
                    values["role_sid"] = service.default_chat_service_role_sid
            try:
                user = await use_cases.add_user(conn, account_sid=place.account_sid, chat_service_sid=place.service_sid,
                                                identity=identity, values=values, action=place.action())
            except store.IdentityTaken as error:
                raise identity_taken(identity) from error
        return render.user(user, place.root)

    @router.get("")
    async def list_(form: FormData, place: At) -> dict[str, Any]:
        page = page_of(form, max_size=50)
        rows = await store.list_users(pool, chat_service_sid=place.service_sid, after=page.after, before=page.before,
                                      limit=page.size + 1)
        return dated_page(key="users", rows=rows, page=page, url=f"{place.root.url}/Users",
                          render=lambda row: render.user(row, place.root))

    @router.get("/{Sid}")
    async def fetch(Sid: str, place: At) -> dict[str, Any]:
        return render.user(await user_or_404(pool, place, Sid), place.root)

    @router.post("/{Sid}")
    async def update(Sid: str, form: FormData, place: At) -> dict[str, Any]:
        async with pool.acquire() as conn, conn.transaction():
            user = await user_or_404(conn, place, Sid, for_update=True)
            values = await user_values(conn, form, place)
            updated = await use_cases.update_user(conn, user=user, values=values, action=place.action())
        return render.user(updated, place.root)

    @router.delete("/{Sid}", status_code=204)
    async def delete(Sid: str, place: At) -> Response:
        async with pool.acquire() as conn, conn.transaction():
            user = await user_or_404(conn, place, Sid, for_update=True)
            await use_cases.remove_user(conn, user=user, action=place.action())
        return Response(status_code=204)

    async def user_conversation_or_404(conn: store.Connection, user: User, conversation_sid: str) -> UserConversation:
        found = await store.get_user_conversation(conn, user=user, conversation_sid=conversation_sid)
        if found is None:
            raise not_found(f"Conversation {conversation_sid} of user {user.sid}")
        return found

    @router.get("/{UserSid}/Conversations")
    async def list_conversations(UserSid: str, form: FormData, place: SelfAt) -> dict[str, Any]:
        user = await self_or_404(pool, place, UserSid)
        page = read_page_request(form, max_size=50)
        after = page.after if isinstance(page.after, str) else None
        rows = await store.list_user_conversations(pool, user=user, after=after, limit=page.size + 1)
        shown, has_more = page_slice(rows, page)
        return render_page(
            key="conversations", items=[render.user_conversation(row, place.root) for row in shown],
            keys=[row.conversation_sid for row in shown], request=page, has_more=has_more,
            url=f"{place.root.url}/Users/{user.sid}/Conversations",
        )

    @router.get("/{UserSid}/Conversations/{ConversationSid}")
    async def fetch_conversation(UserSid: str, ConversationSid: str, place: SelfAt) -> dict[str, Any]:
        user = await self_or_404(pool, place, UserSid)
        return render.user_conversation(await user_conversation_or_404(pool, user, ConversationSid), place.root)

    @router.post("/{UserSid}/Conversations/{ConversationSid}")
    async def update_conversation(UserSid: str, ConversationSid: str, form: FormData, place: SelfAt) -> dict[str, Any]:
        level = form.choice("NotificationLevel", ["default", "muted"])
        participant_values: dict[str, Any] = {}
        if "LastReadMessageIndex" in form:
            # An empty value clears it (the OpenAPI marks the index nullable).
            participant_values["last_read_message_index"] = (
                form.int("LastReadMessageIndex", minimum=0) if form.str("LastReadMessageIndex") else None
            )
        if (timestamp := form_datetime(form, "LastReadTimestamp")) is not None:
            participant_values["last_read_timestamp"] = timestamp
        async with pool.acquire() as conn, conn.transaction():
            user = await self_or_404(conn, place, UserSid)
            found = await user_conversation_or_404(conn, user, ConversationSid)
            if level is not None:
                await store.set_notification_level(conn, user_sid=user.sid, conversation_sid=found.conversation_sid,
                                                   level=level)
            if participant_values:
                conversation, participant = await _participant_of(conn, place, found)
                await participant_cases.update_participant(conn, conversation=conversation, participant=participant,
                                                           values=participant_values, action=place.action())
            found = await user_conversation_or_404(conn, user, found.conversation_sid)
        return render.user_conversation(found, place.root)

    @router.delete("/{UserSid}/Conversations/{ConversationSid}", status_code=204)
    async def leave_conversation(UserSid: str, ConversationSid: str, place: SelfAt) -> Response:
        async with pool.acquire() as conn, conn.transaction():
            user = await self_or_404(conn, place, UserSid)
            found = await user_conversation_or_404(conn, user, ConversationSid)
            conversation, participant = await _participant_of(conn, place, found)
            await authorize(conn, place, conversation, ChatRequest("remove_participant", owner=participant.identity))
            await participant_cases.remove_participant(conn, conversation=conversation, participant=participant,
                                                       action=place.action())
        return Response(status_code=204)

    return router


async def _participant_of(conn: store.Connection, place: Place, found: UserConversation) -> tuple[Any, Any]:
    conversation = await conversations_store.get_conversation(
        conn, account_sid=place.account_sid, sid_or_unique_name=found.conversation_sid, chat_service_sid=place.service_sid,
        for_update=True,
    )
    participant = await conversations_store.get_participant(conn, conversation_sid=found.conversation_sid,
                                                           sid=found.participant_sid)
    if conversation is None or participant is None:
        raise not_found(f"Conversation {found.conversation_sid}")
    return conversation, participant
