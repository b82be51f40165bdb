"""All SQL of the ingress service. Functions run inside the caller's transaction, or on the pool for reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import asyncpg

from services.ingress.domain.providers import Provider, ProviderFields
from shared.sids import new_sid

Connection: TypeAlias = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy | asyncpg.Pool

# The addresses ride along in one array, so a page of providers is one query.
_PROVIDER_SELECT = (
    "SELECT p.sid, p.account_sid, p.type, p.friendly_name, p.api_base_url, p.credentials, p.date_created, "
    "p.date_updated, coalesce((SELECT array_agg(a.address ORDER BY a.position) FROM provider_addresses a "
    "WHERE a.provider_sid = p.sid), '{}') AS addresses FROM providers p"
)


def _provider(row: asyncpg.Record) -> Provider:
    return Provider(
        sid=row["sid"],
        account_sid=row["account_sid"],
        type=row["type"],
        addresses=tuple(row["addresses"]),
        friendly_name=row["friendly_name"],
        api_base_url=row["api_base_url"],
        credentials=row["credentials"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )


async def get_provider(conn: Connection, *, sid: str, account_sid: str | None = None) -> Provider | None:
    """By SID; with `account_sid`, only when the provider belongs to that account."""
    row = await conn.fetchrow(
        f"{_PROVIDER_SELECT} WHERE p.sid = $1 AND ($2::text IS NULL OR p.account_sid = $2)", sid, account_sid
    )
    return _provider(row) if row else None


async def lock_provider(conn: Connection, *, sid: str, account_sid: str) -> bool:
    """Hold the provider row until the transaction ends, so concurrent updates apply one after the other."""
    return bool(await conn.fetchval(
        "SELECT true FROM providers WHERE sid = $1 AND account_sid = $2 FOR UPDATE", sid, account_sid
    ))


async def list_providers(
    conn: Connection, *, account_sid: str, after: str | None, before: str | None, limit: int
) -> list[Provider]:
    if before is not None:
        rows = await conn.fetch(
            f"SELECT * FROM ({_PROVIDER_SELECT} WHERE p.account_sid = $1 AND p.sid < $2 ORDER BY p.sid DESC LIMIT $3) "
            f"page ORDER BY sid",
            account_sid, before, limit,
        )
    else:
        rows = await conn.fetch(
            f"{_PROVIDER_SELECT} WHERE p.account_sid = $1 AND ($2::text IS NULL OR p.sid > $2) ORDER BY p.sid LIMIT $3",
            account_sid, after, limit,
        )
    return [_provider(row) for row in rows]


async def insert_provider(conn: Connection, *, account_sid: str, fields: ProviderFields) -> str:
    sid = new_sid("PV")
    await conn.execute(
        "INSERT INTO providers (sid, account_sid, type, friendly_name, api_base_url, credentials) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        sid, account_sid, fields.type, fields.friendly_name, fields.api_base_url, dict(fields.credentials),
    )
    await replace_addresses(conn, account_sid=account_sid, provider_sid=sid, addresses=fields.addresses)
    return sid


async def update_provider(conn: Connection, *, account_sid: str, sid: str, fields: ProviderFields) -> None:
    await conn.execute(
        "UPDATE providers SET friendly_name = $3, api_base_url = $4, credentials = $5, date_updated = now() "
        "WHERE sid = $1 AND account_sid = $2",
        sid, account_sid, fields.friendly_name, fields.api_base_url, dict(fields.credentials),
    )
    await replace_addresses(conn, account_sid=account_sid, provider_sid=sid, addresses=fields.addresses)


async def replace_addresses(conn: Connection, *, account_sid: str, provider_sid: str, addresses: Sequence[str]) -> None:
    await conn.execute("DELETE FROM provider_addresses WHERE provider_sid = $1", provider_sid)
    await conn.execute(
        "INSERT INTO provider_addresses (provider_sid, account_sid, address, position) "
        "SELECT $1, $2, address, position - 1 FROM unnest($3::text[]) WITH ORDINALITY AS given (address, position)",
        provider_sid, account_sid, list(addresses),
    )


async def find_address_owner(
    conn: Connection, *, account_sid: str, addresses: Sequence[str], other_than: str | None = None
) -> tuple[str, str] | None:
    """(address, provider SID) of the first of `addresses` another provider of the account already serves."""
    row = await conn.fetchrow(
        "SELECT address, provider_sid FROM provider_addresses WHERE account_sid = $1 AND address = ANY($2::text[]) "
        "AND ($3::text IS NULL OR provider_sid <> $3) ORDER BY address LIMIT 1",
        account_sid, list(addresses), other_than,
    )
    return (row["address"], row["provider_sid"]) if row else None


async def delete_provider(conn: Connection, *, account_sid: str, sid: str) -> bool:
    result = await conn.execute("DELETE FROM providers WHERE sid = $1 AND account_sid = $2", sid, account_sid)
    return bool(result.endswith(" 1"))
