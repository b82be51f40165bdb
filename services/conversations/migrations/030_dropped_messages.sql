-- Inbound channel messages a pre-event webhook refused (any non-2xx answer): nothing of them was
-- stored and nothing announced; this row records the drop, once per provider message.
CREATE TABLE dropped_messages (
    id bigserial PRIMARY KEY,
    account_sid text NOT NULL,
    channel_message_sid text NOT NULL,            -- the provider's id (MessageSid)
    from_address text NOT NULL,
    to_address text NOT NULL,
    conversation_sid text,                        -- the conversation it was for; null when it would have created one
    event_type text NOT NULL,                     -- the pre-event that refused it: onMessageAdd, onConversationAdd
    url text NOT NULL,                            -- the webhook that refused it
    response_code integer,
    message_id uuid NOT NULL,                     -- the inbound message's envelope, for the logs
    date_created timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_sid, channel_message_sid)
);
