-- Provider connections: the carriers (Twilio-format or Meta's WhatsApp Cloud) an account receives and sends through.
CREATE TABLE providers (
    sid text PRIMARY KEY CHECK (sid ~ '^PV[0-9a-f]{32}$'),
    account_sid text NOT NULL CHECK (account_sid ~ '^AC[0-9a-f]{32}$'),
    friendly_name text CHECK (length(friendly_name) <= 256),
    type text NOT NULL CHECK (type IN ('twilio', 'whatsapp_cloud')),
    api_base_url text CHECK (api_base_url ~ '^https?://'),
    -- Secrets the provider gave us (auth token, access token, app secret…); never rendered.
    credentials jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(credentials) = 'object'),
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now(),
    -- A twilio provider signs its callbacks with its auth token: without one, nothing inbound could be trusted.
    CHECK (type <> 'twilio' OR (credentials ? 'account_sid' AND credentials ? 'auth_token')),
    -- Lets provider_addresses prove its account_sid is its provider's.
    UNIQUE (sid, account_sid)
);
CREATE INDEX providers_by_account ON providers (account_sid, sid);

-- The addresses a provider serves. One address belongs to one provider of an account, so an
-- inbound message or an outbound send has exactly one connection to go through.
CREATE TABLE provider_addresses (
    provider_sid text NOT NULL,
    account_sid text NOT NULL,
    address text NOT NULL CHECK (address ~ '^(whatsapp:)?\+[1-9][0-9]{1,14}$'),
    position integer NOT NULL CHECK (position >= 0),
    PRIMARY KEY (provider_sid, address),
    UNIQUE (account_sid, address),
    FOREIGN KEY (provider_sid, account_sid) REFERENCES providers (sid, account_sid) ON DELETE CASCADE
);
