"""Twilio's Conversations webhook event names."""

POST_EVENTS = frozenset({
    "onConversationAdded", "onConversationUpdated", "onConversationRemoved", "onConversationStateUpdated",
    "onParticipantAdded", "onParticipantUpdated", "onParticipantRemoved",
    "onMessageAdded", "onMessageUpdated", "onMessageRemoved", "onDeliveryUpdated",
    "onUserAdded", "onUserUpdated",
})
PRE_EVENTS = frozenset({
    "onConversationAdd", "onConversationUpdate", "onConversationRemove",
    "onParticipantAdd", "onParticipantUpdate", "onParticipantRemove",
    "onMessageAdd", "onMessageUpdate", "onMessageRemove", "onUserUpdate",
})
