"""Account records and credential checks."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.auth.keys import ApiKey, get_key
from shared.crypto import SealedColumn, SecretBox
from shared.sids import new_sid, new_token


@dataclass(frozen=True)
class Account:
    sid: str
    friendly_name: str
    auth_token: str
    owner_account_sid: str | None
    status: str
    date_created: datetime
    date_updated: datetime


# The auth token is stored sealed: webhook signatures and media URLs need it back, so it is encrypted, not hashed.
SEALED = SealedColumn("accounts", "auth_token")


def _account(row: asyncpg.Record, box: SecretBox) -> Account:
    return Account(
        sid=row["sid"],
        friendly_name=row["friendly_name"],
        auth_token=box.open(row["auth_token"]),
        owner_account_sid=row["owner_account_sid"],
        status=row["status"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )


_COLUMNS = "sid, friendly_name, auth_token, owner_account_sid, status, date_created, date_updated"


async def get_account(conn: asyncpg.Connection | asyncpg.Pool, *, sid: str, box: SecretBox) -> Account | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE sid = $1", sid)
    return _account(row, box) if row else None


async def insert_account(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    box: SecretBox,
    friendly_name: str,
    owner_account_sid: str | None = None,
    sid: str | None = None,
    auth_token: str | None = None,
    is_dev: bool = False,
) -> Account:
    row = await conn.fetchrow(
        f"INSERT INTO accounts (sid, friendly_name, auth_token, owner_account_sid, is_dev) "
        f"VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}",
        sid or new_sid("AC"),
        friendly_name,
        box.seal(auth_token or new_token()),
        owner_account_sid,
        is_dev,
    )
    return _account(row, box)


async def update_account(
    conn: asyncpg.Connection | asyncpg.Pool, *, sid: str, friendly_name: str | None, status: str | None,
    box: SecretBox,
) -> Account | None:
    row = await conn.fetchrow(
        f"UPDATE accounts SET friendly_name = coalesce($2, friendly_name), status = coalesce($3, status), "
        f"date_updated = now() WHERE sid = $1 RETURNING {_COLUMNS}",
        sid,
        friendly_name,
        status,
    )
    return _account(row, box) if row else None


async def list_accounts(
    conn: asyncpg.Connection | asyncpg.Pool, *, owner_sid: str, after_sid: str | None, limit: int,
    box: SecretBox, friendly_name: str | None = None, status: str | None = None,
) -> list[Account]:
    """The owner itself and its subaccounts, by SID."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM accounts WHERE (sid = $1 OR owner_account_sid = $1) "
        f"AND ($2::text IS NULL OR sid > $2) AND ($4::text IS NULL OR friendly_name = $4) "
        f"AND ($5::text IS NULL OR status = $5) ORDER BY sid LIMIT $3",
        owner_sid, after_sid, limit, friendly_name, status,
    )
    return [_account(row, box) for row in rows]


async def ensure_dev_account(pool: asyncpg.Pool, *, sid: str | None, auth_token: str | None,
                             box: SecretBox) -> Account:
    """The account `make run` prints: from the environment when given, else created once and kept."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE")
        if sid and auth_token:
            existing = await get_account(conn, sid=sid, box=box)
            if existing is None:
                return await insert_account(conn, box=box, friendly_name="Parley dev account", sid=sid,
                                            auth_token=auth_token)
            if existing.auth_token != auth_token:
                await conn.execute("UPDATE accounts SET auth_token = $2, date_updated = now() WHERE sid = $1",
                                   sid, box.seal(auth_token))
                refreshed = await get_account(conn, sid=sid, box=box)
                assert refreshed is not None
                return refreshed
            return existing
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE is_dev")
        if row:
            return _account(row, box)
        return await insert_account(conn, box=box, friendly_name="Parley dev account", is_dev=True)


class AccountDirectory:
    """Credential checks with a short cache, since every request asks: an account's SID and auth token, or
    one of its API keys (`SK…` and its secret)."""

    _TTL_SECONDS = 5.0

    def __init__(self, pool: asyncpg.Pool, box: SecretBox) -> None:
        self.pool = pool
        self.box = box
        self._cache: dict[str, tuple[float, Account | None]] = {}
        self._keys: dict[str, tuple[float, ApiKey | None]] = {}

    async def get_key(self, sid: str) -> ApiKey | None:
        now = time.monotonic()
        cached = self._keys.get(sid)
        if cached and now - cached[0] < self._TTL_SECONDS:
            return cached[1]
        key = await get_key(self.pool, sid=sid, box=self.box)
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[sid] = (now, key)
        return key

    def forget_key(self, sid: str) -> None:
        self._keys.pop(sid, None)

    async def get(self, sid: str) -> Account | None:
        now = time.monotonic()
        cached = self._cache.get(sid)
        if cached and now - cached[0] < self._TTL_SECONDS:
            return cached[1]
        account = await get_account(self.pool, sid=sid, box=self.box)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[sid] = (now, account)
        return account

    def forget(self, sid: str) -> None:
        self._cache.pop(sid, None)

    async def verify(self, sid: str, secret: str) -> Account | None:
        if sid.startswith("SK"):
            return await self._verify_key(sid, secret)
        account = await self.get(sid)
        if account is None or account.status != "active":
            return None
        if not hmac.compare_digest(account.auth_token.encode(), secret.encode()):
            return None
        return account

    async def _verify_key(self, sid: str, secret: str) -> Account | None:
        key = await self.get_key(sid)
        if key is None or not hmac.compare_digest(key.secret.encode(), secret.encode()):
            return None
        account = await self.get(key.account_sid)
        return account if account is not None and account.status == "active" else None
