-- Outbound sends: one row per conversation message and participant, however often the command is delivered.
CREATE TABLE sends (
    id bigserial PRIMARY KEY,
    account_sid text NOT NULL CHECK (account_sid ~ '^AC[0-9a-f]{32}$'),
    conversation_sid text NOT NULL CHECK (conversation_sid ~ '^CH[0-9a-f]{32}$'),
    message_sid text NOT NULL CHECK (message_sid ~ '^IM[0-9a-f]{32}$'),
    participant_sid text NOT NULL CHECK (participant_sid ~ '^MB[0-9a-f]{32}$'),
    channel text NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
    -- The provider that lists from_address when the command arrived; null when none did (the send then failed).
    -- No foreign key: the record outlives a deleted provider.
    provider_sid text CHECK (provider_sid ~ '^PV[0-9a-f]{32}$'),
    from_address text NOT NULL CHECK (from_address ~ '^(whatsapp:)?\+[1-9][0-9]{1,14}$'),
    to_address text NOT NULL CHECK (to_address ~ '^(whatsapp:)?\+[1-9][0-9]{1,14}$'),
    body text NOT NULL DEFAULT '' CHECK (length(body) <= 4096),
    media_urls text[] NOT NULL DEFAULT '{}',
    media_content_types text[] NOT NULL DEFAULT '{}',
    content_sid text CHECK (length(content_sid) <= 256),
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'submitted', 'failed')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- While an attempt is in flight; a sender that died mid-attempt leaves it to expire and be retried.
    lease_until timestamptz,
    channel_message_sid text CHECK (length(channel_message_sid) BETWEEN 1 AND 256),
    provider_status text CHECK (provider_status ~ '^[a-z_]{1,32}$'),
    -- The receipt statuses already published for this send, so a repeated callback publishes nothing twice.
    reported_statuses text[] NOT NULL DEFAULT '{}',
    error_code integer,
    error_message text CHECK (length(error_message) <= 2000),
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now(),
    UNIQUE (message_sid, participant_sid),
    UNIQUE (provider_sid, channel_message_sid),
    CHECK (state <> 'submitted' OR channel_message_sid IS NOT NULL),
    CHECK (state <> 'failed' OR error_code IS NOT NULL),
    CHECK (cardinality(media_urls) = cardinality(media_content_types))
);
-- The sender's question: what is due for this From address, oldest first.
CREATE INDEX sends_due ON sends (account_sid, from_address, id) WHERE state IN ('pending', 'sending');

-- The token bucket per sender address, as a virtual schedule (GCRA): `free_at` is when the next
-- send may go. Shared by every ingress replica, so the carrier sees the configured rate in total.
CREATE TABLE sender_pacing (
    account_sid text NOT NULL,
    address text NOT NULL,
    free_at timestamptz NOT NULL,
    PRIMARY KEY (account_sid, address)
);

-- Status callbacks that arrived before the provider's answer to the send was recorded (a fast
-- provider can call back before its own 201 reaches us); applied when it is.
CREATE TABLE early_statuses (
    provider_sid text NOT NULL CHECK (provider_sid ~ '^PV[0-9a-f]{32}$'),
    channel_message_sid text NOT NULL CHECK (length(channel_message_sid) BETWEEN 1 AND 256),
    status text NOT NULL CHECK (status ~ '^[a-z_]{1,32}$'),
    error_code integer,
    reported_at timestamptz NOT NULL,
    PRIMARY KEY (provider_sid, channel_message_sid, status)
);
