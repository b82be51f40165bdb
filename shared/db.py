"""PostgreSQL pools: one per service schema, with that schema as the search path."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit, urlunsplit

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Parley keeps no session state on pooled connections (locks are transaction-scoped, listeners are
    removed by their owner), so the default reset — a round trip on every release — buys nothing."""


async def create_pool(database_url: str, *, schema: str, max_size: int = 10) -> asyncpg.Pool:
    """A pool opening connections as they are asked for. No floor of idle connections: asyncpg restores a floor
    in the background after losing it, logging a traceback at every try for as long as the database is away,
    while whoever asks for a connection then meets the outage itself, and says so in one line (shared/outages.py)."""
    pool = await asyncpg.create_pool(
        database_url,
        min_size=0,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        server_settings={"search_path": f'"{schema}", public', "application_name": f"parley-{schema}"},
    )
    assert pool is not None
    return pool


async def require_reachable(pool: asyncpg.Pool, *, timeout: float = 2.0) -> None:
    """Raise the database's own failure (an outage, shared/outages.py) unless it answers now: asked before work
    elsewhere whose outcome will need the database, so an outage fails the request before anything was done."""
    await asyncio.wait_for(pool.fetchval("SELECT 1"), timeout)


async def ensure_database(database_url: str) -> None:
    """Create the database named in the URL when it does not exist yet."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name:
        return
    try:
        conn = await asyncpg.connect(database_url)
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            pass
        finally:
            await admin.close()
    else:
        await conn.close()
