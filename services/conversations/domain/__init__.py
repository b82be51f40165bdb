"""Conversations rules as plain Python: resources, states and the webhook fields Twilio sends."""
