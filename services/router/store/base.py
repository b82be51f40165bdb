"""What every store module shares: the connection type, rows into values, keyset pages, updates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.sql import Query

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy | asyncpg.Pool


def build(cls: Any, row: asyncpg.Record | None) -> Any:
    return cls(**dict(row)) if row is not None else None


def touched_one(result: str) -> bool:
    """asyncpg's status line says how many rows a DELETE or UPDATE touched."""
    return result.endswith(" 1")


@dataclass(frozen=True)
class Keyset:
    """One page of a list ordered by (date, sid); `after`/`before` are the last key seen, [iso date, sid]."""

    after: list[Any] | None
    before: list[Any] | None
    limit: int
    descending: bool = False


async def fetch_page(conn: Connection, *, select: str, query: Query, keyset: Keyset, date_column: str,
                     sid_column: str) -> list[asyncpg.Record]:
    """Keyset page in display order; asks for `limit` rows (the caller asks for one extra to learn if more)."""
    bound = keyset.after or keyset.before
    forward = (not keyset.descending) if keyset.before is None else keyset.descending
    comparison, direction = (">", "ASC") if forward else ("<", "DESC")
    if bound:
        date = query.param(datetime.fromisoformat(bound[0]))
        sid = query.param(bound[1])
        query.conditions.append(f"({date_column}, {sid_column}) {comparison} ({date}::timestamptz, {sid}::text)")
    limit = query.param(keyset.limit)
    rows = await conn.fetch(
        f"{select} WHERE {query.clause()} ORDER BY {date_column} {direction}, {sid_column} {direction} LIMIT {limit}",
        *query.params,
    )
    if keyset.before is not None:
        rows.reverse()
    return list(rows)


def assignments(values: dict[str, Any], allowed: Sequence[str], *, first: int = 2) -> tuple[str, list[Any]]:
    """`col = $n` pairs for an UPDATE, plus date_updated; parameters start at `first`."""
    unknown = set(values) - set(allowed)
    assert not unknown, unknown
    parts = [f"{column} = ${number}" for number, column in enumerate(values, start=first)]
    parts.append("date_updated = clock_timestamp()")
    return ", ".join(parts), list(values.values())
