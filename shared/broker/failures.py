"""Failures a handler can signal to the consume wrapper."""


class PermanentFailure(Exception):
    """Retrying cannot help (e.g. no address configuration for the destination): park the message at once."""
