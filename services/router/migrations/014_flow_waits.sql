-- Send-and-wait-for-reply: an execution can wait at a state for the customer's reply, until `wait_until`
-- (then its `timeout` transition runs). The trigger and the widgets' data are kept for the rest of the walk.
ALTER TABLE flow_executions DROP CONSTRAINT flow_executions_status_check;
ALTER TABLE flow_executions ADD CONSTRAINT flow_executions_status_check
    CHECK (status IN ('active', 'ended', 'failed', 'waiting'));
ALTER TABLE flow_executions ADD COLUMN trigger jsonb NOT NULL DEFAULT '{}';
ALTER TABLE flow_executions ADD COLUMN widgets jsonb NOT NULL DEFAULT '{}';
ALTER TABLE flow_executions ADD COLUMN wait_until timestamptz;
CREATE INDEX flow_executions_waiting ON flow_executions (wait_until) WHERE status = 'waiting';
