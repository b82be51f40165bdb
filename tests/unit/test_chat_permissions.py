"""The chat-user policy as rules: which of Twilio's permissions each action needs, for the default roles."""

import pytest

from services.conversations.domain.chat_permissions import (
    NOT_FOR_CHAT_USERS,
    Actor,
    ChatRequest,
    missing_permission,
    required_permissions,
)
from services.conversations.domain.identity import CHANNEL_ADMIN, CHANNEL_USER

USER = Actor(identity="guest", participant_sid="MB1", permissions=frozenset(CHANNEL_USER.permissions))
ADMIN = Actor(identity="agent", participant_sid="MB2", permissions=frozenset(CHANNEL_ADMIN.permissions))
NOBODY = Actor(identity="guest", participant_sid="MB1", permissions=frozenset())


@pytest.mark.parametrize(("request_", "user", "admin"), [
    (ChatRequest("read"), None, None),
    (ChatRequest("send_message", with_body=True), None, None),
    (ChatRequest("send_message", with_body=True, with_media=True), None, None),
    (ChatRequest("send_message", with_body=True, fields=frozenset({"date_created"})), NOT_FOR_CHAT_USERS,
     NOT_FOR_CHAT_USERS),
    (ChatRequest("edit_message", fields=frozenset({"body"}), owner="guest"), None, None),
    (ChatRequest("edit_message", fields=frozenset({"body"}), owner="someone"), "editAnyMessage", None),
    (ChatRequest("edit_message", fields=frozenset({"attributes"}), owner="guest"), None, None),
    (ChatRequest("edit_message", fields=frozenset({"author"}), owner="guest"), NOT_FOR_CHAT_USERS, NOT_FOR_CHAT_USERS),
    (ChatRequest("delete_message", owner="guest"), None, None),
    (ChatRequest("delete_message", owner="someone"), "deleteAnyMessage", None),
    (ChatRequest("add_participant"), "addParticipant", None),
    (ChatRequest("add_participant", non_chat=True), "addNonChatParticipant", "addNonChatParticipant"),
    (ChatRequest("add_participant", fields=frozenset({"role_sid"})), "addParticipant", NOT_FOR_CHAT_USERS),
    (ChatRequest("remove_participant", owner="someone"), "removeParticipant", None),
    (ChatRequest("remove_participant", owner="guest"), None, None),
    (ChatRequest("edit_participant", fields=frozenset({"attributes"}), owner="guest"), None, None),
    (ChatRequest("edit_participant", fields=frozenset({"last_read_message_index"}), owner="guest"), None, None),
    (ChatRequest("edit_participant", fields=frozenset({"role_sid"}), owner="agent"), NOT_FOR_CHAT_USERS,
     NOT_FOR_CHAT_USERS),
    (ChatRequest("edit_conversation", fields=frozenset({"friendly_name"})), "editConversationName", None),
    (ChatRequest("edit_conversation", fields=frozenset({"state"})), NOT_FOR_CHAT_USERS, NOT_FOR_CHAT_USERS),
    (ChatRequest("delete_conversation"), "deleteConversation", None),
    (ChatRequest("something_new"), NOT_FOR_CHAT_USERS, NOT_FOR_CHAT_USERS),
])
def test_the_default_roles_permit_what_twilio_says(request_: ChatRequest, user: str | None, admin: str | None) -> None:
    """`channel user` and `channel admin` (acting on their own things when owner is their identity: permission
    over anyone's covers one's own)."""
    assert missing_permission(USER, request_) == user
    assert missing_permission(ADMIN if request_.owner != "guest" else ADMIN_AS_GUEST, request_) == admin


ADMIN_AS_GUEST = Actor(identity="guest", participant_sid="MB2", permissions=frozenset(CHANNEL_ADMIN.permissions))


def test_a_media_message_with_text_needs_both_permissions() -> None:
    assert required_permissions(NOBODY, ChatRequest("send_message", with_body=True, with_media=True)) == [
        "sendMessage", "sendMediaMessage"]
    assert required_permissions(NOBODY, ChatRequest("send_message", with_media=True)) == ["sendMediaMessage"]
    only_text = Actor("guest", "MB1", frozenset({"sendMessage"}))
    only_own = Actor("guest", "MB1", frozenset({"editOwnMessage"}))
    assert missing_permission(only_own, ChatRequest("edit_message", fields=frozenset({"body"}), owner="x")) == (
        "editAnyMessage")
    assert missing_permission(only_text, ChatRequest("send_message", with_media=True)) == "sendMediaMessage"
