"""Twilio-style SIDs: a two-letter prefix and 32 lowercase hex digits."""

from __future__ import annotations

import re
import secrets
import uuid

_SID = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def sid_from(prefix: str, *parts: str) -> str:
    """A SID derived from stable parts, so a retried operation names the same resource."""
    return prefix + uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)).hex


def is_sid(value: str, prefix: str | None = None) -> bool:
    return bool(_SID.match(value)) and (prefix is None or value.startswith(prefix))


def new_token() -> str:
    return secrets.token_hex(16)
