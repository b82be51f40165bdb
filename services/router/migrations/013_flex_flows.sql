-- Flex Flows (FO…): a channel type and contact identity (the address customers write to) tied to an
-- integration — a flow (studio), a webhook (external) or a task made directly (task). Web Channels are
-- web chats started through a Flex Flow: their SID is the conversation's (CH…). The Flex Configuration
-- is one row per account: the fields Parley uses, plus whatever else a client stores in it.

CREATE TABLE flex_flows (
    sid text PRIMARY KEY CHECK (sid ~ '^FO[0-9a-f]{32}$'),
    account_sid text NOT NULL CHECK (account_sid ~ '^AC[0-9a-f]{32}$'),
    friendly_name text NOT NULL CHECK (length(friendly_name) BETWEEN 1 AND 256),
    chat_service_sid text NOT NULL,
    channel_type text NOT NULL CHECK (channel_type IN ('web', 'sms', 'facebook', 'whatsapp', 'line', 'custom')),
    contact_identity text,
    enabled boolean NOT NULL DEFAULT true,
    integration_type text NOT NULL DEFAULT 'studio' CHECK (integration_type IN ('studio', 'external', 'task')),
    integration jsonb NOT NULL DEFAULT '{}',
    long_lived boolean NOT NULL DEFAULT false,
    janitor_enabled boolean NOT NULL DEFAULT false,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX flex_flows_by_account ON flex_flows (account_sid, date_created, sid);
-- One enabled flow answers an address of a channel type.
CREATE UNIQUE INDEX flex_flows_one_per_address ON flex_flows (account_sid, channel_type, contact_identity)
    WHERE enabled AND contact_identity IS NOT NULL;

CREATE TABLE web_channels (
    sid text PRIMARY KEY CHECK (sid ~ '^CH[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    flex_flow_sid text NOT NULL,
    identity text NOT NULL,
    post_engagement_data text,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX web_channels_by_account ON web_channels (account_sid, date_created, sid);

CREATE TABLE flex_configurations (
    account_sid text PRIMARY KEY CHECK (account_sid ~ '^AC[0-9a-f]{32}$'),
    values jsonb NOT NULL DEFAULT '{}',
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
