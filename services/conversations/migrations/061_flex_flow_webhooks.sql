-- An external-integration Flex Flow: conversations it creates post their messages to this URL.
ALTER TABLE flex_flow_addresses ADD COLUMN webhook_url text;
