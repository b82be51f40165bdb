-- Studio-like flows (FW) an address configuration of AutoCreation.Type studio runs on a new conversation,
-- and their executions: one per conversation, so a conversation whose flow ended never restarts it.

CREATE TABLE flows (
    sid text PRIMARY KEY CHECK (sid ~ '^FW[0-9a-f]{32}$'),
    account_sid text NOT NULL CHECK (account_sid ~ '^AC[0-9a-f]{32}$'),
    friendly_name text NOT NULL CHECK (length(friendly_name) <= 256),
    definition jsonb NOT NULL,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX flows_by_account ON flows (account_sid, date_created, sid);

CREATE TABLE flow_executions (
    conversation_sid text PRIMARY KEY CHECK (conversation_sid ~ '^CH[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    flow_sid text NOT NULL,
    current_state text,
    variables jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended', 'failed')),
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
