"""SQL building for list queries: only the filters a caller gave become conditions.

Writing `($2 IS NULL OR col = $2)` instead looks tidy but hides the filter from the planner once a
prepared statement goes generic, so keyset bounds stop being index bounds and deep pages scan.
"""

from __future__ import annotations

from typing import Any


class Filters:
    """WHERE conditions with `$n` placeholders numbered in the order values are added."""

    def __init__(self, conditions: list[str] | None = None, values: list[Any] | None = None) -> None:
        self.conditions = list(conditions or [])
        self.values = list(values or [])

    def placeholder(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"

    def add(self, template: str, *values: Any) -> None:
        """Add `template` with each `{}` bound to a value; skipped when every value is None (not given)."""
        if all(value is None for value in values):
            return
        self.conditions.append(template.format(*(self.placeholder(value) for value in values)))

    @property
    def sql(self) -> str:
        return " AND ".join(self.conditions) or "true"
