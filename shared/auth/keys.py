"""API keys (`SK…` + secret): records, and the Parley-managed key that signs the access tokens Parley mints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

import asyncpg

from shared.crypto import SealedColumn, SecretBox
from shared.sids import new_sid, new_token

Connection: TypeAlias = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy | asyncpg.Pool

MANAGED_KEY_NAME = "Parley access tokens"
# Sealed, not hashed: HS256 signs and verifies access tokens with the secret itself.
SEALED = SealedColumn("api_keys", "secret")


@dataclass(frozen=True)
class ApiKey:
    sid: str
    account_sid: str
    friendly_name: str | None
    secret: str
    managed: bool
    date_created: datetime
    date_updated: datetime


_COLUMNS = "sid, account_sid, friendly_name, secret, managed, date_created, date_updated"


def _key(row: asyncpg.Record, box: SecretBox) -> ApiKey:
    return ApiKey(sid=row["sid"], account_sid=row["account_sid"], friendly_name=row["friendly_name"],
                  secret=box.open(row["secret"]), managed=row["managed"], date_created=row["date_created"],
                  date_updated=row["date_updated"])


def new_secret() -> str:
    return new_token() + new_token()  # 64 hex digits: 256 bits, HS256's full key length


async def insert_key(conn: Connection, *, account_sid: str, friendly_name: str | None, box: SecretBox,
                     managed: bool = False) -> ApiKey:
    row = await conn.fetchrow(
        f"INSERT INTO api_keys (sid, account_sid, friendly_name, secret, managed) VALUES ($1, $2, $3, $4, $5) "
        f"RETURNING {_COLUMNS}",
        new_sid("SK"), account_sid, friendly_name, box.seal(new_secret()), managed,
    )
    return _key(row, box)


async def get_key(conn: Connection, *, sid: str, box: SecretBox, account_sid: str | None = None) -> ApiKey | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM api_keys WHERE sid = $1 AND ($2::text IS NULL OR account_sid = $2)", sid, account_sid
    )
    return _key(row, box) if row else None


async def list_keys(conn: Connection, *, account_sid: str, after_sid: str | None, limit: int,
                    box: SecretBox) -> list[ApiKey]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM api_keys WHERE account_sid = $1 AND ($2::text IS NULL OR sid > $2) "
        f"ORDER BY sid LIMIT $3",
        account_sid, after_sid, limit,
    )
    return [_key(row, box) for row in rows]


async def update_key(conn: Connection, *, account_sid: str, sid: str, friendly_name: str | None,
                     box: SecretBox) -> ApiKey | None:
    row = await conn.fetchrow(
        f"UPDATE api_keys SET friendly_name = coalesce($3, friendly_name), date_updated = now() "
        f"WHERE sid = $1 AND account_sid = $2 RETURNING {_COLUMNS}",
        sid, account_sid, friendly_name,
    )
    return _key(row, box) if row else None


async def delete_key(conn: Connection, *, account_sid: str, sid: str) -> bool:
    result = await conn.execute("DELETE FROM api_keys WHERE sid = $1 AND account_sid = $2", sid, account_sid)
    return bool(result.endswith(" 1"))


async def managed_key(pool: asyncpg.Pool, *, account_sid: str, box: SecretBox) -> ApiKey:
    """The account's Parley-managed signing key, created the first time it is needed."""
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM api_keys WHERE account_sid = $1 AND managed", account_sid)
    if row:
        return _key(row, box)
    async with pool.acquire() as conn, conn.transaction():
        # Two first requests at once: one creates, the other finds it.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"managed-key/{account_sid}")
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM api_keys WHERE account_sid = $1 AND managed", account_sid)
        if row:
            return _key(row, box)
        return await insert_key(conn, account_sid=account_sid, friendly_name=MANAGED_KEY_NAME, box=box, managed=True)


async def list_key_sids(conn: Connection, *, sids: list[str]) -> set[str]:
    """Which of these keys still exist (the tokens they signed live and die with them)."""
    rows = await conn.fetch("SELECT sid FROM api_keys WHERE sid = ANY($1::text[])", sids)
    return {row["sid"] for row in rows}
