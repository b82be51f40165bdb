"""Use cases of the conversations service, one module per resource family; each runs inside the caller's
transaction and writes its events to the outbox there."""

from services.conversations.handlers.inbound import NoAddressConfiguration, receive_inbound_message  # noqa: F401
