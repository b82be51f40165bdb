-- Conversations that were closed (final in Twilio's model), from their state events: a web-chat guest's token
-- is renewed only while the guest is in a conversation not listed here.
CREATE TABLE realtime_closed_conversations (
    account_sid text NOT NULL CHECK (account_sid ~ '^AC[0-9a-f]{32}$'),
    conversation_sid text NOT NULL CHECK (conversation_sid ~ '^CH[0-9a-f]{32}$'),
    date_closed timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_sid, conversation_sid)
);
