"""Twilio's request encoding: form fields with PascalCase and dotted names, repeated keys for lists."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request

from shared.errors import invalid_parameter, missing_parameter

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


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
        self, name: builtins.str, *, minimum: builtins.int | None = None, maximum: builtins.int | None = None
    ) -> builtins.int | None:
        value = self.str(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError as error:
            raise invalid_parameter(f"Parameter '{name}' must be an integer, not '{value}'") from error
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise invalid_parameter(f"Parameter '{name}' must be between {minimum} and {maximum}")
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

    def json_object(self, name: builtins.str, *, code: builtins.int = 20001) -> builtins.str | None:
        """A JSON string parameter (`Attributes`, `Configuration`…), validated and kept as text."""
        value = self.str(name)
        if value is None:
            return None
        parse_json_object(value, name=name, code=code)
        return value


def parse_json_object(value: str, *, name: str, code: int = 20001) -> Any:
    try:
        return json.loads(value)
    except ValueError as error:
        raise invalid_parameter(f"Parameter '{name}' is not valid JSON", code=code) from error


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
