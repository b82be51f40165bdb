-- Flex Interactions: an interaction (KD) has one channel (UO) on one conversation (CH); the channel's
-- participants (UT) are the customer and the agents who accepted its tasks; invites (KG) and transfers (UX)
-- are further tasks for the same channel. Tasks are TaskRouter's own rows; `interaction_tasks` links them.

CREATE TABLE interactions (
    sid text PRIMARY KEY CHECK (sid ~ '^KD[0-9a-f]{32}$'),
    account_sid text NOT NULL CHECK (account_sid ~ '^AC[0-9a-f]{32}$'),
    interaction_context_sid text CHECK (interaction_context_sid ~ '^HQ[0-9a-f]{32}$'),
    webhook_ttid text CHECK (length(webhook_ttid) <= 256),
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX interactions_by_account ON interactions (account_sid, date_created, sid);

CREATE TABLE interaction_channels (
    sid text PRIMARY KEY CHECK (sid ~ '^UO[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    interaction_sid text NOT NULL UNIQUE REFERENCES interactions ON DELETE CASCADE,
    type text NOT NULL CHECK (type IN ('voice', 'sms', 'email', 'web', 'whatsapp', 'chat', 'messenger', 'gbm')),
    initiated_by text NOT NULL CHECK (initiated_by IN ('customer', 'agent', 'api')),
    status text NOT NULL DEFAULT 'setup'
        CHECK (status IN ('setup', 'active', 'failed', 'closed', 'inactive', 'pause', 'transfer')),
    media_channel_sid text CHECK (media_channel_sid ~ '^CH[0-9a-f]{32}$'),
    workspace_sid text,
    error_code integer,
    error_message text,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- "A customer in an open conversation does not get a second task": the one open channel of a conversation.
CREATE UNIQUE INDEX interaction_channels_open_conversation ON interaction_channels (media_channel_sid)
    WHERE status NOT IN ('closed', 'failed');

CREATE TABLE interaction_participants (
    sid text PRIMARY KEY CHECK (sid ~ '^UT[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    interaction_sid text NOT NULL REFERENCES interactions ON DELETE CASCADE,
    channel_sid text NOT NULL REFERENCES interaction_channels ON DELETE CASCADE,
    type text NOT NULL CHECK (type IN ('supervisor', 'customer', 'external', 'agent', 'unknown')),
    status text NOT NULL DEFAULT 'joined' CHECK (status IN ('joined', 'wrapup', 'closed')),
    -- The conversation identity (agents) or address (customers) this participant is known by.
    identity text,
    media_properties text NOT NULL DEFAULT '{}',
    task_sid text,
    worker_sid text,
    reservation_sid text,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX interaction_participants_by_channel ON interaction_participants (channel_sid, date_created, sid);
CREATE UNIQUE INDEX interaction_participants_per_reservation ON interaction_participants (reservation_sid)
    WHERE reservation_sid IS NOT NULL;

CREATE TABLE interaction_invites (
    sid text PRIMARY KEY CHECK (sid ~ '^KG[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    interaction_sid text NOT NULL REFERENCES interactions ON DELETE CASCADE,
    channel_sid text NOT NULL REFERENCES interaction_channels ON DELETE CASCADE,
    routing text NOT NULL,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX interaction_invites_by_channel ON interaction_invites (channel_sid, date_created, sid);

CREATE TABLE interaction_transfers (
    sid text PRIMARY KEY CHECK (sid ~ '^UX[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    interaction_sid text NOT NULL REFERENCES interactions ON DELETE CASCADE,
    channel_sid text NOT NULL REFERENCES interaction_channels ON DELETE CASCADE,
    type text NOT NULL CHECK (type IN ('warm', 'cold', 'external')),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'failed', 'completed')),
    from_participant_sid text NOT NULL REFERENCES interaction_participants,
    to_target text NOT NULL,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Every task made for a channel: the first one, invites' and transfers'.
CREATE TABLE interaction_tasks (
    task_sid text PRIMARY KEY REFERENCES tasks ON DELETE CASCADE,
    channel_sid text NOT NULL REFERENCES interaction_channels ON DELETE CASCADE,
    workspace_sid text NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    invite_sid text REFERENCES interaction_invites,
    transfer_sid text REFERENCES interaction_transfers,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX interaction_tasks_by_channel ON interaction_tasks (channel_sid);
