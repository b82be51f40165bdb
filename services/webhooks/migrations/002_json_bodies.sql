-- Deliveries POSTed as JSON (signed with the bodySHA256 variant) instead of form fields:
-- {"value": <the body>}, null for form deliveries.
ALTER TABLE deliveries ADD COLUMN json_body jsonb;
