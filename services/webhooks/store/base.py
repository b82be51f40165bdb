"""What every store module shares: the connection type and the channel that wakes the dispatcher."""

from __future__ import annotations

import zlib

import asyncpg

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


def deliveries_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel on which new or replayed deliveries wake the dispatchers of one schema."""
    return f"parley_deliveries_{zlib.crc32(schema.encode()):x}"


async def notify_deliveries(conn: Connection) -> None:
    """Wake the dispatchers once this transaction commits (NOTIFY is delivered on commit)."""
    schema = await conn.fetchval("SELECT current_schema()")
    await conn.execute("SELECT pg_notify($1, '')", deliveries_channel(schema))
