"""Liquid-style `{{a.b.c}}` substitution: dotted lookups in a context, nothing evaluated."""

from __future__ import annotations

import re
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")


def lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def render(template: str, context: dict[str, Any]) -> str:
    """Each `{{path}}` becomes the value at that path (missing: empty); everything else stays as written."""

    def substitute(match: re.Match[str]) -> str:
        value = lookup(context, match.group(1))
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(substitute, template)


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Every string inside a JSON value rendered; keys and other types kept."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, list):
        return [render_value(item, context) for item in value]
    if isinstance(value, dict):
        return {key: render_value(item, context) for key, item in value.items()}
    return value
