-- Conversations, participants, messages, receipts and webhook configuration, complete.

-- Listing a service's conversations, newest or oldest first, by keyset.
CREATE INDEX conversations_by_service ON conversations (chat_service_sid, date_created, sid);
-- The durable timers: the sweeper looks only at conversations with a due time.
CREATE INDEX conversations_inactive_due ON conversations (date_inactive) WHERE date_inactive IS NOT NULL;
CREATE INDEX conversations_closed_due ON conversations (date_closed) WHERE date_closed IS NOT NULL;
ALTER TABLE conversations ADD CONSTRAINT conversations_attributes_length CHECK (length(attributes) <= 16384);
ALTER TABLE conversations ADD CONSTRAINT conversations_friendly_name_length CHECK (length(friendly_name) <= 256);
ALTER TABLE conversations ADD CONSTRAINT conversations_timers_positive
    CHECK ((timer_inactive IS NULL OR timer_inactive > interval '0') AND (timer_closed IS NULL OR timer_closed > interval '0'));

-- ParticipantConversations: every conversation an identity or an address takes part in.
CREATE INDEX participants_by_identity ON participants (account_sid, identity) WHERE identity IS NOT NULL;
CREATE INDEX participants_by_address ON participants (account_sid, address) WHERE address IS NOT NULL;
ALTER TABLE participants ADD CONSTRAINT participants_last_read_index CHECK (last_read_message_index IS NULL OR last_read_message_index >= 0);

-- Keyset paging of messages runs on UNIQUE (conversation_sid, index) from 001.
ALTER TABLE messages ADD COLUMN subject text CHECK (length(subject) <= 256);

-- Delivery receipts: one per message and non-chat participant, updated as the provider reports.
CREATE TABLE receipts (
    sid text PRIMARY KEY CHECK (sid ~ '^DY[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    conversation_sid text NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    message_sid text NOT NULL REFERENCES messages (sid) ON DELETE CASCADE,
    participant_sid text,
    channel_message_sid text,
    status text NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed', 'undelivered')),
    error_code integer NOT NULL DEFAULT 0,
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now(),
    UNIQUE (message_sid, participant_sid)
);
CREATE INDEX receipts_by_message ON receipts (message_sid, sid);

-- Conversation-scoped webhooks: constraints the API also checks, kept here so no row breaks them.
ALTER TABLE conversation_webhooks ADD CONSTRAINT conversation_webhooks_replay_after CHECK (replay_after IS NULL OR replay_after >= 0);
ALTER TABLE conversation_webhooks ADD CONSTRAINT conversation_webhooks_target_needs
    CHECK ((target = 'studio' AND flow_sid IS NOT NULL) OR (target IN ('webhook', 'trigger') AND url IS NOT NULL));

-- The account-level Configuration and Configuration/Webhooks (one row per account, made on first write).
CREATE TABLE account_configurations (
    account_sid text PRIMARY KEY CHECK (account_sid ~ '^AC[0-9a-f]{32}$'),
    default_messaging_service_sid text CHECK (default_messaging_service_sid ~ '^MG[0-9a-fA-F]{32}$'),
    default_inactive_timer interval CHECK (default_inactive_timer >= interval '0'),
    default_closed_timer interval CHECK (default_closed_timer >= interval '0'),
    webhook_method text NOT NULL DEFAULT 'POST' CHECK (webhook_method IN ('GET', 'POST')),
    webhook_filters text[] NOT NULL DEFAULT '{}',
    pre_webhook_url text,
    post_webhook_url text,
    webhook_target text NOT NULL DEFAULT 'webhook' CHECK (webhook_target IN ('webhook', 'flex')),
    date_updated timestamptz NOT NULL DEFAULT now()
);

-- A service's Configuration/Webhooks (absent row: nothing configured).
CREATE TABLE service_webhook_configurations (
    chat_service_sid text PRIMARY KEY REFERENCES services (sid) ON DELETE CASCADE,
    account_sid text NOT NULL,
    method text CHECK (method IN ('GET', 'POST')),
    filters text[],
    pre_webhook_url text,
    post_webhook_url text,
    date_updated timestamptz NOT NULL DEFAULT now()
);
