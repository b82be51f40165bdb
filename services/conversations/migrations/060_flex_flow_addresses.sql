-- The addresses the router's Flex Flows answer (told over RPC when a flow is saved): an inbound message to an
-- address with no address configuration creates its conversation through the Flex Flow that answers it.
CREATE TABLE flex_flow_addresses (
    account_sid text NOT NULL,
    address text NOT NULL,
    flex_flow_sid text NOT NULL CHECK (flex_flow_sid ~ '^FO[0-9a-f]{32}$'),
    chat_service_sid text,
    date_updated timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (account_sid, address)
);
CREATE INDEX flex_flow_addresses_by_flow ON flex_flow_addresses (flex_flow_sid);
