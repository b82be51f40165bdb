-- Webhook deliveries: one row per delivery command (its SID derives from the command's message id,
-- so a redelivered command cannot make a second row), with where its delivery stands.
CREATE TABLE deliveries (
    sid text PRIMARY KEY CHECK (sid ~ '^DL[0-9a-f]{32}$'),
    seq bigserial NOT NULL UNIQUE,                -- arrival order: the order within an ordering chain
    account_sid text NOT NULL,
    message_id uuid NOT NULL,
    correlation_id text,
    event_type text NOT NULL,
    target text NOT NULL,
    url text NOT NULL,
    endpoint text NOT NULL,                       -- scheme://host:port, the unit of per-endpoint isolation
    method text NOT NULL CHECK (method IN ('GET', 'POST')),
    params jsonb NOT NULL,                        -- [[name, value], ...] exactly as the receiver gets them
    resource_sid text,
    ordering_key text,
    timeout_seconds double precision,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'retrying', 'delivered', 'failed')),
    attempt_count integer NOT NULL DEFAULT 0,
    budget_start integer NOT NULL DEFAULT 0,      -- attempts made before the last replay
    replays integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    lease_token uuid,                             -- the dispatcher that claimed it, until lease_until
    lease_until timestamptz,
    error text,
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, seq) WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_chains ON deliveries (ordering_key, url, seq)
    WHERE status IN ('pending', 'retrying') AND ordering_key IS NOT NULL;
CREATE INDEX deliveries_by_account ON deliveries (account_sid, seq);

CREATE TABLE delivery_attempts (
    delivery_sid text NOT NULL REFERENCES deliveries (sid) ON DELETE CASCADE,
    number integer NOT NULL,
    date_attempted timestamptz NOT NULL,
    response_code integer,
    latency_ms integer NOT NULL,
    error text,
    PRIMARY KEY (delivery_sid, number)
);

-- Every message the fabric parked: broker dead letters, and webhook deliveries that gave up.
CREATE TABLE dead_letters (
    sid text PRIMARY KEY CHECK (sid ~ '^DX[0-9a-f]{32}$'),
    seq bigserial NOT NULL UNIQUE,
    account_sid text,                             -- null: not attributable to an account
    source text NOT NULL CHECK (source IN ('broker', 'webhook')),
    queue text NOT NULL,
    routing_key text NOT NULL,
    reason text NOT NULL,
    error text,
    message_id text,
    payload jsonb,                                -- the body as JSON, when it is JSON
    body bytea,                                   -- the body exactly, for replay (broker dead letters)
    headers jsonb NOT NULL DEFAULT '{}',
    delivery_sid text REFERENCES deliveries (sid) ON DELETE CASCADE,
    status text NOT NULL DEFAULT 'parked' CHECK (status IN ('parked', 'replayed')),
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_by_account ON dead_letters (account_sid, seq);
CREATE INDEX dead_letters_by_message ON dead_letters (queue, message_id);
CREATE INDEX dead_letters_by_delivery ON dead_letters (delivery_sid) WHERE delivery_sid IS NOT NULL;

-- The latest failure a consumer reported for a message, so its dead letter can say why it died
-- whichever of the two arrives first.
CREATE TABLE consumer_failures (
    queue text NOT NULL,
    failed_message_id text NOT NULL,
    error text NOT NULL,
    delivery_count integer NOT NULL,
    date_reported timestamptz NOT NULL,
    PRIMARY KEY (queue, failed_message_id)
);
