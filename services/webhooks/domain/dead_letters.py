"""Reading a dead-lettered broker message: where it died and why (RabbitMQ's `x-death`), whose it is, what it said."""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# Set on a replayed message, naming the dead letter it came from: if it dies again, that is a new dead letter.
REPLAY_HEADER = "x-parley-replay-of"
# Headers RabbitMQ owns; a replay starts without them.
_BROKER_HEADERS = ("x-death", "x-first-death-", "x-last-death-", "x-delivery-count")
_ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")


@dataclass(frozen=True)
class Death:
    queue: str  # logical name, without the deployment's prefix
    routing_key: str
    reason: str  # rejected | delivery_limit | expired | maxlen
    count: int


def read_death(headers: Mapping[str, Any], *, broker_prefix: str) -> Death:
    """The most recent death in `x-death` (RabbitMQ lists the latest first)."""
    deaths = headers.get("x-death")
    latest: Mapping[str, Any] = {}
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], Mapping):
        latest = deaths[0]
    queue = _text(latest.get("queue") or headers.get("x-first-death-queue") or "unknown")
    keys = latest.get("routing-keys")
    routing_key = _text(keys[0]) if isinstance(keys, list) and keys else ""
    reason = _text(latest.get("reason") or headers.get("x-first-death-reason") or "unknown")
    count = latest.get("count")
    return Death(
        queue=queue.removeprefix(broker_prefix) if broker_prefix else queue,
        routing_key=routing_key,
        reason=reason,
        count=count if isinstance(count, int) else 1,
    )


def parse_body(body: bytes) -> tuple[bool, Any]:
    """(True, the JSON value) when the body is JSON that PostgreSQL's jsonb can hold; (False, None) otherwise."""
    try:
        value = json.loads(body, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError):
        return False, None
    if "\\u0000" in json.dumps(value):  # jsonb refuses NUL characters
        return False, None
    return True, value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def clean_text(value: str | None) -> str | None:
    """Text PostgreSQL can store (it refuses NUL characters)."""
    return value.replace("\x00", "\ufffd") if value is not None else None


def account_of(payload: Any) -> str | None:
    """The envelope's account, when it names a real one; fabric-wide (None) otherwise."""
    if not isinstance(payload, Mapping):
        return None
    account = payload.get("account_sid")
    if isinstance(account, str) and _ACCOUNT_SID.fullmatch(account):
        return account
    return None


def normal_message_id(message_id: str | None) -> str | None:
    """UUIDs in one spelling, so a dead letter and its consumer's failure report meet."""
    if not message_id:
        return None
    try:
        return str(uuid.UUID(message_id))
    except ValueError:
        return message_id


def replay_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    """The application's own headers, JSON-safe, without what RabbitMQ added on the way to the dead letters."""
    return {
        key: _json_safe(value)
        for key, value in headers.items()
        if not key.startswith(_BROKER_HEADERS) and key != REPLAY_HEADER
    }


def _json_safe(value: Any) -> Any:
    """A value jsonb can hold: text without NUL, finite numbers, dates as ISO strings."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {_text(key).replace("\x00", "\ufffd"): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if value is None or isinstance(value, (bool, int)) or (isinstance(value, float) and math.isfinite(value)):
        return value
    return _text(value).replace("\x00", "\ufffd")


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
