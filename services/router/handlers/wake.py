"""Waking the assignment engine of every router instance once a transaction that changed routing commits."""

from __future__ import annotations

from services.router.store.base import Connection

CHANNEL_SQL = "'router_dispatch_' || md5(current_schema())"


async def wake_dispatch(conn: Connection, workspace_sid: str) -> None:
    """NOTIFY is delivered at commit, so a sleeping dispatcher never sees a change that rolled back."""
    await conn.execute(f"SELECT pg_notify({CHANNEL_SQL}, $1)", workspace_sid)


async def dispatch_channel(conn: Connection) -> str:
    return str(await conn.fetchval(f"SELECT {CHANNEL_SQL}"))
