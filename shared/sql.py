"""SQL building for list queries: only the filters a caller gave become conditions.

Writing `($2 IS NULL OR col = $2)` instead looks tidy but hides the filter from the planner once a
prepared statement goes generic, so keyset bounds stop being index bounds and deep pages scan.
"""

from __future__ import annotations

from typing import Any


class Query:
    """A WHERE clause built from optional filters, with numbered parameters."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def where(self, condition: str, *values: Any) -> Query:
        """`condition` uses `{}` for each value, e.g. where("friendly_name = {}", name)."""
        self.conditions.append(condition.format(*(self.param(value) for value in values)))
        return self

    def maybe(self, condition: str, value: Any) -> Query:
        if value is not None:
            self.where(condition, value)
        return self

    def clause(self) -> str:
        return " AND ".join(self.conditions) if self.conditions else "true"
