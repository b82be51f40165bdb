"""The webhooks service."""
