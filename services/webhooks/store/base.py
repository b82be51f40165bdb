"""What every store module shares: the connection type and the channel that wakes the dispatcher."""

from __future__ import annotations

import asyncpg

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

# SQL naming the NOTIFY channel of the current schema; `deliveries_channel` names the same one in Python.
NOTIFY_DELIVERIES = "pg_notify('deliveries_' || current_schema(), '')"


def deliveries_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel on which new or replayed deliveries wake the dispatchers of one schema."""
    return f"deliveries_{schema}"


async def notify_deliveries(conn: Connection) -> None:
    """Wake the dispatchers once this transaction commits (NOTIFY is delivered on commit, once per transaction)."""
    await conn.execute(f"SELECT {NOTIFY_DELIVERIES}")
