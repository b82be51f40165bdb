"""The webhooks service's HTTP API: `/parley/v1/WebhookDeliveries` and `/parley/v1/DeadLetters`."""
