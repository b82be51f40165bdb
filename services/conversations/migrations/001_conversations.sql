-- Conversation services: every account has a default one, created on first use.
CREATE TABLE services (
    sid text PRIMARY KEY CHECK (sid ~ '^IS[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    friendly_name text NOT NULL DEFAULT '',
    is_default boolean NOT NULL DEFAULT false,
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX services_one_default ON services (account_sid) WHERE is_default;
CREATE INDEX services_by_account ON services (account_sid, sid);

CREATE TABLE address_configurations (
    sid text PRIMARY KEY CHECK (sid ~ '^IG[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    type text NOT NULL CHECK (type IN ('sms', 'whatsapp', 'messenger', 'gbm', 'email', 'rcs', 'apple', 'chat')),
    address text NOT NULL CHECK (address <> ''),
    friendly_name text CHECK (length(friendly_name) <= 256),
    address_country text,
    auto_creation_enabled boolean NOT NULL DEFAULT false,
    auto_creation_type text CHECK (auto_creation_type IN ('webhook', 'studio', 'default')),
    conversation_service_sid text REFERENCES services (sid),
    webhook_url text,
    webhook_method text CHECK (webhook_method IN ('GET', 'POST')),
    webhook_filters text[] NOT NULL DEFAULT '{}',
    studio_flow_sid text,
    studio_retry_count integer CHECK (studio_retry_count BETWEEN 0 AND 3),
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_sid, address)
);
CREATE INDEX address_configurations_by_account ON address_configurations (account_sid, sid);

CREATE TABLE conversations (
    sid text PRIMARY KEY CHECK (sid ~ '^CH[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    chat_service_sid text NOT NULL REFERENCES services (sid),
    messaging_service_sid text,
    friendly_name text,
    unique_name text,
    attributes text NOT NULL DEFAULT '{}',
    state text NOT NULL DEFAULT 'active' CHECK (state IN ('initializing', 'active', 'inactive', 'closed')),
    timer_inactive interval,
    timer_closed interval,
    date_inactive timestamptz,
    date_closed timestamptz,
    last_message_index integer NOT NULL DEFAULT -1,
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX conversations_unique_name ON conversations (chat_service_sid, unique_name) WHERE unique_name IS NOT NULL;
CREATE INDEX conversations_by_account ON conversations (account_sid, date_created, sid);

CREATE TABLE participants (
    sid text PRIMARY KEY CHECK (sid ~ '^MB[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    conversation_sid text NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    identity text,
    binding_type text CHECK (binding_type IN ('sms', 'whatsapp', 'chat')),
    address text,
    proxy_address text,
    projected_address text,
    attributes text NOT NULL DEFAULT '{}',
    role_sid text,
    last_read_message_index integer,
    last_read_timestamp timestamptz,
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now(),
    -- A participant is either a chat identity or a messaging binding.
    CHECK ((identity IS NOT NULL) OR (address IS NOT NULL AND proxy_address IS NOT NULL))
);
CREATE UNIQUE INDEX participants_identity ON participants (conversation_sid, identity) WHERE identity IS NOT NULL;
CREATE INDEX participants_by_conversation ON participants (conversation_sid, date_created, sid);

-- The (address, proxy address) pairs held by non-closed conversations: one conversation per pair.
CREATE TABLE bound_addresses (
    account_sid text NOT NULL,
    address text NOT NULL,
    proxy_address text NOT NULL,
    conversation_sid text NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    participant_sid text NOT NULL REFERENCES participants (sid) ON DELETE CASCADE,
    PRIMARY KEY (account_sid, address, proxy_address)
);
CREATE INDEX bound_addresses_by_conversation ON bound_addresses (conversation_sid);

CREATE TABLE messages (
    sid text PRIMARY KEY CHECK (sid ~ '^IM[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    conversation_sid text NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    index integer NOT NULL CHECK (index >= 0),
    author text NOT NULL,
    body text CHECK (length(body) <= 1600),
    attributes text NOT NULL DEFAULT '{}',
    participant_sid text,
    channel_message_sid text,
    content_sid text,
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_sid, index)
);
-- A provider's retry of one inbound message must not become a second message.
CREATE UNIQUE INDEX messages_channel_message ON messages (account_sid, channel_message_sid)
    WHERE channel_message_sid IS NOT NULL;

-- Conversation-scoped webhooks (at most five per conversation, enforced by the API).
CREATE TABLE conversation_webhooks (
    sid text PRIMARY KEY CHECK (sid ~ '^WH[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    conversation_sid text NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    target text NOT NULL CHECK (target IN ('webhook', 'trigger', 'studio')),
    url text,
    method text CHECK (method IN ('GET', 'POST')),
    filters text[] NOT NULL DEFAULT '{}',
    triggers text[] NOT NULL DEFAULT '{}',
    flow_sid text,
    replay_after integer,
    -- 'address' when the address configuration attached it at auto-creation.
    origin text NOT NULL DEFAULT 'api' CHECK (origin IN ('api', 'address')),
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_webhooks_by_conversation ON conversation_webhooks (conversation_sid);
