-- Events and commands written in the same transaction as the change they announce;
-- the relay publishes them with confirms and deletes them.
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    message_id uuid NOT NULL UNIQUE,
    exchange text NOT NULL,
    routing_key text NOT NULL,
    body bytea NOT NULL,
    headers jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per broker message a consumer has applied, written in the consumer's transaction,
-- so a redelivered message changes nothing twice.
CREATE TABLE processed_messages (
    consumer text NOT NULL,
    message_id uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);
CREATE INDEX processed_messages_age ON processed_messages (processed_at);
