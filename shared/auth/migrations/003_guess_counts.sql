-- Guesses at credentials, counted in fixed windows so that guessing can be throttled on every replica alike
-- (shared/auth/throttle.py): per client address (credential '') and per (email or SID, client address),
-- for agent sign-ins and HTTP Basic apart. Rows whose window has ended are pruned.
CREATE TABLE guess_counts (
    scope text NOT NULL CHECK (scope IN ('sign-in', 'basic')),
    address text NOT NULL CHECK (length(address) <= 64),
    credential text NOT NULL CHECK (length(credential) <= 320),
    window_started timestamptz NOT NULL,
    attempts integer NOT NULL CHECK (attempts >= 0),
    PRIMARY KEY (scope, address, credential)
);
CREATE INDEX guess_counts_by_age ON guess_counts (window_started);
