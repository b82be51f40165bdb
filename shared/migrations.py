"""Numbered, forward-only SQL migrations, one schema per service, applied at start-up.

Every service schema first gets the fabric tables (outbox, processed messages), then the
service's own files. An advisory lock makes concurrent starts of several instances safe.
"""

from __future__ import annotations

import logging
import re
import zlib
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

FABRIC_MIGRATIONS = Path(__file__).parent / "fabric_migrations"
_NUMBERED = re.compile(r"^(\d+)_.+\.sql$")


def migration_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []  # a service with no tables yet (git does not keep empty folders)
    files = [path for path in directory.iterdir() if _NUMBERED.match(path.name)]
    return sorted(files, key=lambda path: int(_NUMBERED.match(path.name).group(1)))  # type: ignore[union-attr]


async def apply_migrations(conn: asyncpg.Connection, *, schema: str, directories: list[tuple[str, Path]]) -> int:
    """Apply every file not yet recorded; returns how many were applied."""
    applied = 0
    lock_key = zlib.crc32(f"parley-migrations:{schema}".encode())
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key)
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row["name"] for row in await conn.fetch("SELECT name FROM schema_migrations")}
        for label, directory in directories:
            for path in migration_files(directory):
                name = f"{label}/{path.name}"
                if name in done:
                    continue
                await conn.execute(path.read_text())
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                log.info("applied migration", extra={"schema": schema, "migration": name})
                applied += 1
    return applied


async def migrate_service(database_url: str, *, schema: str, directory: Path | None, fabric: bool = True) -> int:
    directories: list[tuple[str, Path]] = []
    if fabric:
        directories.append(("fabric", FABRIC_MIGRATIONS))
    if directory is not None:
        directories.append(("service", directory))
    conn = await asyncpg.connect(database_url)
    try:
        return await apply_migrations(conn, schema=schema, directories=directories)
    finally:
        await conn.close()
