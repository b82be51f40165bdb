-- How a channel's last task was routed (its create, an invite, a transfer, or a reopening), by SID: a customer
-- who writes in a channel nobody holds any more gets a new task routed the same way. NULL for channels made
-- before this was kept: those are not reopened.
ALTER TABLE interaction_channels ADD COLUMN routing jsonb;

-- The customer's message a conversation's flow last went on with (started or resumed by): that message was the
-- flow's, so it does not reopen the conversation's Flex channel, whichever of the two saw it first.
ALTER TABLE flow_executions ADD COLUMN last_message_sid text;
