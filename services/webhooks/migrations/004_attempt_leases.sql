-- An attempt is logged when its delivery is claimed, before the request goes out: 'in_flight' until its
-- outcome is recorded ('completed'), 'unknown' when its dispatcher went away first (a takeover, a stop),
-- so the log shows every request a receiver may have seen, the repeat's twin included.
ALTER TABLE delivery_attempts ADD COLUMN status text NOT NULL DEFAULT 'completed'
    CHECK (status IN ('in_flight', 'completed', 'unknown'));
ALTER TABLE delivery_attempts ALTER COLUMN status DROP DEFAULT;
ALTER TABLE delivery_attempts ALTER COLUMN latency_ms DROP NOT NULL;
-- The live owner renews all of its leases in one statement, by token.
CREATE INDEX deliveries_leased ON deliveries (lease_token) WHERE lease_token IS NOT NULL;
