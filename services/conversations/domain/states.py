"""Conversation states and timers: which transitions exist, and ISO 8601 durations as Twilio takes them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

STATES = ("active", "inactive", "closed")
SETTABLE_STATES = ("active", "inactive", "closed")

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class InvalidDuration(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    """`PT10M`, `P1D`, `PT0S`… (weeks, days, hours, minutes, seconds; no years or months, which have no fixed length)."""
    match = _DURATION.match(text.strip().upper())
    if match is None:
        raise InvalidDuration(f"'{text}' is not an ISO 8601 duration such as PT10M or P1D")
    parts = {name: float(value) for name, value in match.groupdict().items() if value is not None}
    return timedelta(**parts)


def format_duration(value: timedelta | None) -> str | None:
    """The shortest ISO 8601 form of a duration, as Twilio renders configured timers."""
    if value is None:
        return None
    seconds = int(value.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{seconds}S" if seconds else "")
    if clock or not days:
        text += "T" + (clock or "0S")
    return text


def due_times(
    *, state: str, now: datetime, inactive: timedelta | None, closed: timedelta | None, scale: float = 1.0
) -> tuple[datetime | None, datetime | None]:
    """When the timers fire from `now` on (a timer restarts on every activity); `scale` shrinks time in tests."""
    if state == "closed":
        return None, None
    date_inactive = now + inactive * scale if inactive and state == "active" else None
    date_closed = now + closed * scale if closed else None
    return date_inactive, date_closed
