"""What every store module shares: the connection type and rows into domain values."""

from __future__ import annotations

from typing import Any

import asyncpg

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


def build(cls: Any, row: asyncpg.Record | None) -> Any:
    return cls(**dict(row)) if row is not None else None


def deleted_one(result: str) -> bool:
    """asyncpg's status line says how many rows a DELETE or UPDATE touched."""
    return result.endswith(" 1")
