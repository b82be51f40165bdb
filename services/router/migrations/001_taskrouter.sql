-- TaskRouter v1: every resource as columns; user JSON (attributes, workflow configuration) as text.
-- Routing state lives on the task row, so a router instance can die at any point and another resumes.

CREATE TABLE workspaces (
    sid text PRIMARY KEY CHECK (sid ~ '^WS[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    friendly_name text NOT NULL CHECK (length(friendly_name) BETWEEN 1 AND 64),
    event_callback_url text,
    events_filter text,
    default_activity_sid text,
    timeout_activity_sid text,
    multi_task_enabled boolean NOT NULL DEFAULT true,
    prioritize_queue_order text NOT NULL DEFAULT 'FIFO' CHECK (prioritize_queue_order IN ('FIFO', 'LIFO')),
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (account_sid, friendly_name)
);
CREATE INDEX workspaces_by_account ON workspaces (account_sid, date_created, sid);

CREATE TABLE activities (
    sid text PRIMARY KEY CHECK (sid ~ '^WA[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    workspace_sid text NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    friendly_name text NOT NULL CHECK (length(friendly_name) BETWEEN 1 AND 64),
    available boolean NOT NULL DEFAULT false,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (workspace_sid, friendly_name)
);
CREATE INDEX activities_by_workspace ON activities (workspace_sid, date_created, sid);

CREATE TABLE task_channels (
    sid text PRIMARY KEY CHECK (sid ~ '^TC[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    workspace_sid text NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    friendly_name text NOT NULL CHECK (length(friendly_name) BETWEEN 1 AND 64),
    unique_name text NOT NULL CHECK (length(unique_name) BETWEEN 1 AND 64),
    channel_optimized_routing boolean,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (workspace_sid, unique_name)
);
CREATE INDEX task_channels_by_workspace ON task_channels (workspace_sid, date_created, sid);

CREATE TABLE workers (
    sid text PRIMARY KEY CHECK (sid ~ '^WK[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    workspace_sid text NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    friendly_name text NOT NULL CHECK (length(friendly_name) BETWEEN 1 AND 255),
    attributes text NOT NULL DEFAULT '{}',
    activity_sid text NOT NULL REFERENCES activities,
    available boolean NOT NULL,
    date_status_changed timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (workspace_sid, friendly_name)
);
CREATE INDEX workers_by_workspace ON workers (workspace_sid, date_created, sid);
CREATE INDEX workers_by_activity ON workers (activity_sid);

-- One row per worker and task channel. `ready` is the whole eligibility rule of a channel, kept by
-- PostgreSQL itself, so the candidate index never disagrees with the counters it is built from.
CREATE TABLE worker_channels (
    sid text PRIMARY KEY CHECK (sid ~ '^WC[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    workspace_sid text NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    worker_sid text NOT NULL REFERENCES workers ON DELETE CASCADE,
    task_channel_sid text NOT NULL REFERENCES task_channels ON DELETE CASCADE,
    configured_capacity integer NOT NULL DEFAULT 1 CHECK (configured_capacity BETWEEN 0 AND 50),
    available boolean NOT NULL DEFAULT true,
    assigned_tasks integer NOT NULL DEFAULT 0 CHECK (assigned_tasks >= 0),
    worker_available boolean NOT NULL,
    idle_since timestamptz NOT NULL DEFAULT clock_timestamp(),
    ready boolean GENERATED ALWAYS AS (worker_available AND available AND assigned_tasks < configured_capacity) STORED,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (worker_sid, task_channel_sid)
);
-- The assignment index: ready channels of one task channel, longest idle first.
CREATE INDEX worker_channels_ready ON worker_channels (task_channel_sid, idle_since, worker_sid) WHERE ready;

CREATE TABLE task_queues (
    sid text PRIMARY KEY CHECK (sid ~ '^WQ[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    workspace_sid text NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    friendly_name text NOT NULL CHECK (length(friendly_name) BETWEEN 1 AND 64),
    target_workers text NOT NULL DEFAULT '1==1',
    max_reserved_workers integer NOT NULL DEFAULT 1 CHECK (max_reserved_workers BETWEEN 1 AND 50),
    task_order text NOT NULL DEFAULT 'FIFO' CHECK (task_order IN ('FIFO', 'LIFO')),
    reservation_activity_sid text REFERENCES activities,
    assignment_activity_sid text REFERENCES activities,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (workspace_sid, friendly_name)
);
CREATE INDEX task_queues_by_workspace ON task_queues (workspace_sid, date_created, sid);

-- Queue membership (`target_workers` evaluated once per worker or queue change, not per task).
CREATE TABLE queue_members (
    task_queue_sid text NOT NULL REFERENCES task_queues ON DELETE CASCADE,
    worker_sid text NOT NULL REFERENCES workers ON DELETE CASCADE,
    PRIMARY KEY (task_queue_sid, worker_sid)
);
CREATE INDEX queue_members_by_worker ON queue_members (worker_sid);

CREATE TABLE workflows (
    sid text PRIMARY KEY CHECK (sid ~ '^WW[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    workspace_sid text NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    friendly_name text NOT NULL CHECK (length(friendly_name) BETWEEN 1 AND 64),
    configuration text NOT NULL,
    assignment_callback_url text,
    fallback_assignment_callback_url text,
    task_reservation_timeout integer NOT NULL DEFAULT 120 CHECK (task_reservation_timeout BETWEEN 1 AND 86400),
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX workflows_by_workspace ON workflows (workspace_sid, date_created, sid);

CREATE TABLE tasks (
    sid text PRIMARY KEY CHECK (sid ~ '^WT[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    workspace_sid text NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    attributes text NOT NULL DEFAULT '{}',
    assignment_status text NOT NULL DEFAULT 'pending'
        CHECK (assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping', 'completed', 'canceled')),
    priority integer NOT NULL DEFAULT 0 CHECK (priority >= 0),
    reason text,
    timeout integer NOT NULL DEFAULT 86400 CHECK (timeout BETWEEN 1 AND 31536000),
    task_channel_sid text NOT NULL REFERENCES task_channels,
    workflow_sid text REFERENCES workflows ON DELETE SET NULL,
    task_queue_sid text REFERENCES task_queues ON DELETE SET NULL,
    task_queue_entered_date timestamptz,
    routing_target text,
    ignore_capacity boolean NOT NULL DEFAULT false,
    virtual_start_time timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Where the task stands in its workflow: filter (NULL = default filter) and target step.
    filter_index integer,
    target_index integer NOT NULL DEFAULT 0,
    routing_priority integer NOT NULL DEFAULT 0,
    target_expression text,
    target_order_by text,
    target_skip_if text,
    known_worker_sid text,
    step_tried boolean NOT NULL DEFAULT false,
    -- Durable timers: polled with SKIP LOCKED by every router instance.
    step_deadline timestamptz,
    expires_at timestamptz NOT NULL,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX tasks_by_workspace ON tasks (workspace_sid, date_created, sid);
CREATE INDEX tasks_waiting ON tasks (task_queue_sid, routing_priority DESC, virtual_start_time, sid)
    WHERE assignment_status = 'pending';
CREATE INDEX tasks_pending_workspaces ON tasks (workspace_sid) WHERE assignment_status = 'pending';
CREATE INDEX tasks_expiring ON tasks (expires_at) WHERE assignment_status IN ('pending', 'reserved');
CREATE INDEX tasks_step_due ON tasks (step_deadline) WHERE assignment_status = 'pending' AND step_deadline IS NOT NULL;

CREATE TABLE reservations (
    sid text PRIMARY KEY CHECK (sid ~ '^WR[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    workspace_sid text NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    task_sid text NOT NULL REFERENCES tasks ON DELETE CASCADE,
    worker_sid text NOT NULL REFERENCES workers ON DELETE CASCADE,
    task_queue_sid text,
    task_channel_sid text NOT NULL,
    reservation_status text NOT NULL DEFAULT 'pending'
        CHECK (reservation_status IN ('pending', 'accepted', 'rejected', 'timeout', 'canceled', 'rescinded',
                                      'wrapping', 'completed')),
    -- True while the reservation holds one unit of the worker channel's capacity.
    holds_capacity boolean NOT NULL DEFAULT true,
    expires_at timestamptz,
    date_created timestamptz NOT NULL DEFAULT clock_timestamp(),
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX reservations_by_task ON reservations (task_sid, date_created, sid);
CREATE INDEX reservations_by_worker ON reservations (worker_sid, date_created, sid);
CREATE INDEX reservations_due ON reservations (expires_at) WHERE reservation_status = 'pending';
-- A task is never reserved twice by the same worker while a reservation is live.
CREATE UNIQUE INDEX reservations_live_pair ON reservations (task_sid, worker_sid)
    WHERE reservation_status IN ('pending', 'accepted', 'wrapping');

CREATE TABLE events (
    seq bigserial PRIMARY KEY,
    sid text NOT NULL UNIQUE CHECK (sid ~ '^EV[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    workspace_sid text NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    event_type text NOT NULL,
    resource_type text NOT NULL,
    resource_sid text NOT NULL,
    description text NOT NULL,
    actor_type text,
    actor_sid text,
    source text NOT NULL DEFAULT 'twilio',
    task_sid text,
    worker_sid text,
    reservation_sid text,
    task_queue_sid text,
    workflow_sid text,
    task_channel text,
    -- The event's parameters as Twilio reports them (a snapshot, not a resource of ours).
    event_data jsonb NOT NULL,
    event_date timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX events_by_workspace ON events (workspace_sid, seq);
CREATE INDEX events_by_task ON events (task_sid) WHERE task_sid IS NOT NULL;
CREATE INDEX events_by_worker ON events (worker_sid) WHERE worker_sid IS NOT NULL;
CREATE INDEX events_by_type ON events (workspace_sid, event_type, event_date);
