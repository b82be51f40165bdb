"""The webhooks service's rules as plain Python: outcomes, backoff, endpoints, dead-letter reading."""
