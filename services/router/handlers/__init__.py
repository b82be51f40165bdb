"""Use cases of the router; each runs inside the caller's transaction and records its events."""
