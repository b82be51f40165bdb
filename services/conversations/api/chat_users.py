"""Chat users on the REST API: the conversation's participant a token's identity is, its permissions, and the
refusal Twilio answers when a role does not permit an action (50107). The account passes untouched."""

from services.conversations import store
from services.conversations.api.scope import Place
from services.conversations.domain.chat_permissions import Actor, ChatRequest, missing_permission
from services.conversations.domain.models import Conversation
from services.conversations.store import identity as identity_store
from shared.errors import TwilioError, not_found


def not_authorized(permission: str) -> TwilioError:
    return TwilioError(403, 50107, f"User not authorized to perform the requested action (needs {permission})")


async def chat_actor(conn: store.Connection, place: Place, conversation: Conversation) -> Actor | None:
    """The token holder as a participant of `conversation` (None for the account). A conversation the identity
    is not in does not exist for it: 404, as Twilio answers."""
    identity = place.identity
    if identity is None:
        return None
    participant = await store.get_participant(conn, conversation_sid=conversation.sid, sid=identity)
    if participant is None or participant.identity != identity:
        raise not_found(f"Conversation {conversation.sid}")
    await identity_store.ensure_default_roles(conn, account_sid=conversation.account_sid,
                                              service_sid=conversation.chat_service_sid)
    service = await identity_store.get_service(conn, account_sid=conversation.account_sid,
                                               sid=conversation.chat_service_sid)
    user = await identity_store.get_user(conn, chat_service_sid=conversation.chat_service_sid, sid_or_identity=identity)
    role_sids = [participant.role_sid or (service.default_conversation_role_sid if service else None),
                 (user.role_sid if user else None) or (service.default_chat_service_role_sid if service else None)]
    permissions: set[str] = set()
    for role_sid in filter(None, role_sids):
        role = await identity_store.get_role(conn, chat_service_sid=conversation.chat_service_sid, sid=role_sid)
        if role is not None:
            permissions.update(role.permissions)
    return Actor(identity=identity, participant_sid=participant.sid, permissions=frozenset(permissions))


async def authorize(conn: store.Connection, place: Place, conversation: Conversation, request: ChatRequest) -> None:
    """Nothing for the account; for a chat user: a participant (else 404) whose roles permit `request` (else 50107)."""
    if await _supervising(conn, place, conversation, request):
        return
    actor = await chat_actor(conn, place, conversation)
    if actor is not None and (missing := missing_permission(actor, request)) is not None:
        raise not_authorized(missing)


async def _supervising(conn: store.Connection, place: Place, conversation: Conversation, request: ChatRequest) -> bool:
    """A supervisor (task_router role supervisor/admin) who is not in the conversation may read it, and join it
    as a chat participant of its own identity (the supervisor view's monitor and join)."""
    holder = place.holder
    if holder is None or not holder.supervises:
        return False
    if await store.get_participant(conn, conversation_sid=conversation.sid, sid=holder.identity) is not None:
        return False  # a member already: its conversation role decides
    return request.kind == "read" or (request.kind == "add_participant" and request.owner == holder.identity
                                      and not request.non_chat and not request.fields)
