"""Failures a handler can signal to the consume wrapper."""


class PermanentFailure(Exception):
    """Retrying cannot help (e.g. no address configuration for the destination): park the message at once."""


class PrepareAgain(Exception):
    """What a consumer's prepare step saw (outside the transaction) changed before the transaction began:
    prepare again, then apply. Raised by a prepared handler; the consume wrapper retries a few rounds."""
