CREATE TABLE accounts (
    sid text PRIMARY KEY CHECK (sid ~ '^AC[0-9a-f]{32}$'),
    friendly_name text NOT NULL,
    auth_token text NOT NULL CHECK (length(auth_token) >= 16),
    owner_account_sid text REFERENCES accounts (sid),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    is_dev boolean NOT NULL DEFAULT false,
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_one_dev ON accounts (is_dev) WHERE is_dev;
CREATE INDEX accounts_owner ON accounts (owner_account_sid, sid);
