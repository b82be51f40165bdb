-- Who may see a conversation's realtime events: its chat participants, by identity (from participant events).
CREATE TABLE realtime_members (
    account_sid text NOT NULL CHECK (account_sid ~ '^AC[0-9a-f]{32}$'),
    identity text NOT NULL CHECK (length(identity) BETWEEN 1 AND 256),
    conversation_sid text NOT NULL CHECK (conversation_sid ~ '^CH[0-9a-f]{32}$'),
    participant_sid text NOT NULL CHECK (participant_sid ~ '^MB[0-9a-f]{32}$'),
    PRIMARY KEY (account_sid, identity, conversation_sid)
);

-- A short log of each conversation's message events, so a client reconnecting with the last message
-- index it saw gets what it missed; pruned after a day (older history is the REST API's).
CREATE TABLE realtime_events (
    id bigserial PRIMARY KEY,
    account_sid text NOT NULL CHECK (account_sid ~ '^AC[0-9a-f]{32}$'),
    conversation_sid text NOT NULL CHECK (conversation_sid ~ '^CH[0-9a-f]{32}$'),
    type text NOT NULL CHECK (type IN ('message.added', 'message.updated', 'message.removed')),
    message_index integer NOT NULL CHECK (message_index >= 0),
    -- The message as the REST API rendered it in the event: what the client is sent again.
    resource jsonb NOT NULL CHECK (jsonb_typeof(resource) = 'object'),
    occurred_at timestamptz NOT NULL,
    date_created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX realtime_events_resume ON realtime_events (conversation_sid, message_index, id);
CREATE INDEX realtime_events_age ON realtime_events (date_created);
