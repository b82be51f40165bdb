"""What a chat user (an access token's identity) may do in a conversation, by its role's permissions.

Pure rules: the route says what is asked (`ChatRequest`), the actor carries the permissions of its
participant's conversation role and its user's service role, and `missing_permission` names the
permission the actor lacks (None: permitted). Names are Twilio's (domain/identity.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# Changes no chat user may make, whatever its role: they belong to the account's back end.
NOT_FOR_CHAT_USERS = "accountCredentials"

# Which permission each changeable field needs, on one's own resource and on anyone's.
_MESSAGE_FIELDS = {"body": ("editOwnMessage", "editAnyMessage"),
                   "attributes": ("editOwnMessageAttributes", "editAnyMessageAttributes")}
_PARTICIPANT_FIELDS = {"attributes": ("editOwnParticipantAttributes", "editAnyParticipantAttributes"),
                       # one's own read horizon needs nothing (any member may mark what it read)
                       "last_read_message_index": (None, NOT_FOR_CHAT_USERS),
                       "last_read_timestamp": (None, NOT_FOR_CHAT_USERS)}
# Who may change anyone's may change its own.
_OWN_IMPLIED_BY = {"editOwnMessage": "editAnyMessage", "editOwnMessageAttributes": "editAnyMessageAttributes",
                   "deleteOwnMessage": "deleteAnyMessage", "editOwnParticipantAttributes": "editAnyParticipantAttributes"}
_CONVERSATION_FIELDS = {"friendly_name": "editConversationName", "unique_name": "editConversationName",
                        "attributes": "editConversationAttributes"}


@dataclass(frozen=True)
class Actor:
    identity: str
    participant_sid: str
    permissions: frozenset[str]


@dataclass(frozen=True)
class ChatRequest:
    """One action on a conversation: `kind`, plus what it touches."""

    kind: str  # read | send_message | edit_message | delete_message | add_participant | edit_participant |
    #            remove_participant | edit_conversation | delete_conversation
    fields: frozenset[str] = field(default_factory=frozenset)  # the columns an edit changes
    owner: str | None = None  # the message's author or the participant's identity acted on
    with_body: bool = False
    with_media: bool = False
    non_chat: bool = False  # adding an SMS/WhatsApp participant


def _own_or_any(actor: Actor, request: ChatRequest, table: dict[str, tuple[str | None, str]]) -> list[str | None]:
    own = request.owner == actor.identity
    return [table.get(name, (NOT_FOR_CHAT_USERS, NOT_FOR_CHAT_USERS))[0 if own else 1] for name in sorted(request.fields)]


def required_permissions(actor: Actor, request: ChatRequest) -> list[str]:
    """Every permission the action needs (all of them)."""
    needed: Iterable[str | None]
    match request.kind:
        case "read":
            needed = []
        case "send_message":
            needed = [*(["sendMessage"] if request.with_body or not request.with_media else []),
                      *(["sendMediaMessage"] if request.with_media else []),
                      *([NOT_FOR_CHAT_USERS] if request.fields else [])]  # back-dating is the account's
        case "edit_message":
            needed = _own_or_any(actor, request, _MESSAGE_FIELDS)  # type: ignore[arg-type]
        case "delete_message":
            needed = ["deleteOwnMessage" if request.owner == actor.identity else "deleteAnyMessage"]
        case "add_participant":
            # a role or back-dated dates are the account's to set
            needed = ["addNonChatParticipant" if request.non_chat else "addParticipant",
                      *([NOT_FOR_CHAT_USERS] if request.fields else [])]
        case "edit_participant":
            needed = _own_or_any(actor, request, _PARTICIPANT_FIELDS)
        case "remove_participant":
            needed = ["leaveConversation" if request.owner == actor.identity else "removeParticipant"]
        case "edit_conversation":
            needed = [_CONVERSATION_FIELDS.get(name, NOT_FOR_CHAT_USERS) for name in sorted(request.fields)]
        case "delete_conversation":
            needed = ["deleteConversation"]
        case _:
            needed = [NOT_FOR_CHAT_USERS]
    return list(dict.fromkeys(name for name in needed if name is not None))


def missing_permission(actor: Actor, request: ChatRequest) -> str | None:
    def granted(name: str) -> bool:
        return name in actor.permissions or _OWN_IMPLIED_BY.get(name) in actor.permissions

    return next((name for name in required_permissions(actor, request) if not granted(name)), None)
