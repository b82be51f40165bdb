"""Twilio's request encoding: form fields with PascalCase and dotted names, repeated keys for lists."""

from __future__ import annotations

import builtins
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request

from shared.errors import invalid_parameter, missing_parameter

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
# Deeper JSON is refused before parsing: Python's parser (and every json.dumps after it) recurses once per
# level and fails near 1,000 levels. Twilio's own resources never nest beyond a handful.
JSON_MAX_DEPTH = 64
# The instants a date-time parameter may name. Below, the calendar's first days collide with asyncpg's
# -infinity (year 1 comes back naive) and any arithmetic overflows; no Twilio resource predates the epoch.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
# An integer parameter's default ceiling: what a PostgreSQL `integer` column holds (priorities, indexes, seconds),
# and where Twilio's own integer parameters stop.
LARGEST_INTEGER = 2**31 - 1


class Form:
    """Typed access to form (or query) parameters; unknown parameters are ignored, as Twilio does.

    The accessors are named after the types they return (`form.str`, `form.int`…), so inside the class
    body those names are the methods: annotations below them spell the types as `builtins.str` etc.
    """

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in items:
            self._values.setdefault(key, []).append(value)

    @classmethod
    async def read(cls, request: Request) -> Form:
        items: list[tuple[str, str]] = list(request.query_params.multi_items())
        if request.method in ("POST", "PUT", "PATCH"):
            content_type = request.headers.get("content-type", "")
            if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                try:
                    form = await request.form()
                except Exception as error:  # starlette raises several types for a broken body
                    raise invalid_parameter(f"The request body could not be parsed: {error}") from error
                items.extend((key, value) for key, value in form.multi_items() if isinstance(value, str))
        for key, value in items:
            refuse_unstorable(value, name=key)
        return cls(items)

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def names(self) -> list[str]:
        return list(self._values)

    def as_pairs(self) -> list[tuple[str, str]]:
        return [(key, value) for key, values in self._values.items() for value in values]

    def str(self, name: str, *, required: bool = False, max_length: int | None = None) -> str | None:
        values = self._values.get(name)
        if not values:
            if required:
                raise missing_parameter(name)
            return None
        value = values[-1]
        if max_length is not None and len(value) > max_length:
            raise invalid_parameter(f"Parameter '{name}' must be at most {max_length} characters")
        return value

    def required(self, name: builtins.str, *, max_length: builtins.int | None = None) -> builtins.str:
        value = self.str(name, required=True, max_length=max_length)
        assert value is not None
        if value == "":
            raise missing_parameter(name)
        return value

    def list(self, name: builtins.str) -> builtins.list[builtins.str] | None:
        values = self._values.get(name)
        if values is None:
            return None
        # Twilio clients send lists as repeated keys; some scripts send one comma-separated value.
        if len(values) == 1 and "," in values[0]:
            values = values[0].split(",")
        return [value.strip() for value in values if value.strip()]

    def bool(self, name: builtins.str) -> builtins.bool | None:
        value = self.str(name)
        if value is None:
            return None
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise invalid_parameter(f"Parameter '{name}' must be true or false, not '{value}'")

    def int(
        self, name: builtins.str, *, minimum: builtins.int | None = None,
        maximum: builtins.int | None = LARGEST_INTEGER,
    ) -> builtins.int | None:
        """`maximum=None` only where the number is never stored as one (a window clamped, a size capped)."""
        value = self.str(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError as error:
            raise invalid_parameter(f"Parameter '{name}' must be an integer, not '{value}'") from error
        if minimum is not None and number < minimum:
            raise invalid_parameter(f"Parameter '{name}' must be at least {minimum}, not {number}")
        if maximum is not None and number > maximum:
            raise invalid_parameter(f"Parameter '{name}' must be at most {maximum}, not {number}")
        return number

    def choice(self, name: builtins.str, choices: Iterable[builtins.str], *, lower: builtins.bool = True) -> builtins.str | None:
        value = self.str(name)
        if value is None:
            return None
        allowed = list(choices)
        candidate = value.lower() if lower else value
        if candidate not in allowed:
            raise invalid_parameter(f"Parameter '{name}' must be one of {', '.join(allowed)}, not '{value}'")
        return candidate

    def datetime(self, name: builtins.str, *, end_of_day: builtins.bool = False) -> dt.datetime | None:
        """An ISO 8601 date-time parameter (`DateCreated`, `StartDate`…) in UTC; a bare date means its first
        second, or with `end_of_day` its last (so `EndDate=2024-01-04` includes that whole day)."""
        value = self.str(name)
        if value is None:
            return None
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if end_of_day and len(text) == 10:
                parsed += dt.timedelta(days=1, microseconds=-1)
            instant = parsed.replace(tzinfo=parsed.tzinfo or dt.UTC).astimezone(dt.UTC)
        except (ValueError, OverflowError) as error:  # an offset can carry year 1 or 9999 past the calendar
            raise invalid_parameter(f"Parameter '{name}' must be an ISO 8601 date-time, not '{value}'") from error
        if not EARLIEST <= instant < LATEST:
            raise invalid_parameter(f"Parameter '{name}' must be a date-time from 1970-01-01T00:00:00Z to before "
                                    f"9999-12-31T00:00:00Z, not '{value}'")
        return instant

    def json_object(self, name: builtins.str, *, code: builtins.int = 20001) -> builtins.str | None:
        """A JSON string parameter (`Attributes`, `Configuration`…), validated and kept as text."""
        value = self.str(name)
        if value is None:
            return None
        parse_json_object(value, name=name, code=code)
        return value


def parse_json_object(value: str, *, name: str, code: int = 20001) -> Any:
    refuse_deep_json(value, name=name, code=code)
    try:
        return json.loads(value)
    except ValueError as error:
        raise invalid_parameter(f"Parameter '{name}' is not valid JSON", code=code) from error


async def read_json_body(request: Request, *, name: str = "body") -> Any:
    """A JSON request body, parsed with the same bounds as a JSON parameter; None when the body is empty."""
    raw = (await request.body()).decode(errors="replace")
    if not raw.strip():
        return None
    refuse_unstorable(raw, name=name)
    return parse_json_object(raw, name=name)


def refuse_unstorable(value: str, *, name: str) -> None:
    """Refuses, at the edge, text no later step can handle: NUL and lone surrogates (PostgreSQL stores
    neither) and JSON nested deeper than JSON_MAX_DEPTH (checked for every value that opens like JSON, so a
    JSON parameter is covered wherever it is parsed later)."""
    if "\x00" in value:
        raise invalid_parameter(f"Parameter '{name}' must not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError as error:
        raise invalid_parameter(f"Parameter '{name}' is not valid Unicode text") from error
    if value.lstrip()[:1] in ("{", "["):
        refuse_deep_json(value, name=name)


def refuse_deep_json(text: str, *, name: str, code: int = 20001) -> None:
    if text.count("{") + text.count("[") <= JSON_MAX_DEPTH:
        return  # the common case, counted in C
    depth, in_string, escaped = 0, False, False
    for character in text:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "{[":
            depth += 1
            if depth > JSON_MAX_DEPTH:
                raise invalid_parameter(f"Parameter '{name}' nests JSON deeper than {JSON_MAX_DEPTH} levels",
                                        code=code)
        elif character in "}]":
            depth -= 1


def flatten(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Render nested values the way Twilio sends them: dotted keys, lists as repeated keys."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs.extend((f"{key}.{sub}", text) for sub, text in flatten(value))
        elif isinstance(value, (list, tuple)):
            pairs.extend((key, _text(item)) for item in value)
        else:
            pairs.append((key, _text(value)))
    return pairs


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
