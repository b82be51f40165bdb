-- When each WhatsApp customer last wrote to a WhatsApp Cloud provider: free-form messages to them are
-- allowed for 24 hours after that (Meta's customer service window); outside it only templates go.
CREATE TABLE whatsapp_windows (
    provider_sid text NOT NULL CHECK (provider_sid ~ '^PV[0-9a-f]{32}$'),
    customer_address text NOT NULL CHECK (customer_address ~ '^whatsapp:\+[1-9][0-9]{1,14}$'),
    last_inbound_at timestamptz NOT NULL,
    PRIMARY KEY (provider_sid, customer_address)
);
