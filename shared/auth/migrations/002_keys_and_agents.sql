-- API keys: `SK…` + secret, accepted wherever the account's own credentials are, and the signing keys
-- of access tokens (HS256 needs the secret itself, so it is kept as the auth token is).
CREATE TABLE api_keys (
    sid text PRIMARY KEY CHECK (sid ~ '^SK[0-9a-f]{32}$'),
    account_sid text NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
    friendly_name text CHECK (length(friendly_name) <= 64),
    secret text NOT NULL CHECK (length(secret) >= 32),
    -- Created by Parley to sign the access tokens it mints; one per account.
    managed boolean NOT NULL DEFAULT false,
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_by_account ON api_keys (account_sid, sid);
CREATE UNIQUE INDEX api_keys_one_managed ON api_keys (account_sid) WHERE managed;

-- The people who sign in to the agent desktop: an identity (the chat identity of their access tokens),
-- a password (argon2 hash; never returned) and the TaskRouter worker they are.
CREATE TABLE agents (
    sid text PRIMARY KEY CHECK (sid ~ '^AG[0-9a-f]{32}$'),
    account_sid text NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
    identity text NOT NULL CHECK (length(identity) BETWEEN 1 AND 256),
    friendly_name text CHECK (length(friendly_name) <= 256),
    email text CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND length(email) <= 320),
    password_hash text CHECK (password_hash LIKE '$argon2%'),
    workspace_sid text CHECK (workspace_sid ~ '^WS[0-9a-f]{32}$'),
    worker_sid text CHECK (worker_sid ~ '^WK[0-9a-f]{32}$'),
    chat_service_sid text CHECK (chat_service_sid ~ '^IS[0-9a-f]{32}$'),
    roles text[] NOT NULL DEFAULT '{agent}' CHECK (roles <@ ARRAY['agent', 'supervisor', 'admin'] AND cardinality(roles) > 0),
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_sid, identity),
    CHECK (worker_sid IS NULL OR workspace_sid IS NOT NULL)
);
-- Sign-in is by email alone, so an email names one agent across accounts.
CREATE UNIQUE INDEX agents_by_email ON agents (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX agents_by_account ON agents (account_sid, sid);
