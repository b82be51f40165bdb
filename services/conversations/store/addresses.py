"""Address configurations (`/v1/Configuration/Addresses`)."""

from __future__ import annotations

from typing import Any

from services.conversations.domain.models import AddressConfiguration
from services.conversations.store.base import Connection
from services.conversations.store.base import build as _build
from shared.sids import new_sid

_ADDRESS_COLUMNS = (
    "sid, account_sid, type, address, friendly_name, address_country, auto_creation_enabled, auto_creation_type, "
    "conversation_service_sid, webhook_url, webhook_method, webhook_filters, studio_flow_sid, studio_retry_count, "
    "date_created, date_updated"
)
ADDRESS_FIELDS = (
    "type", "address", "friendly_name", "address_country", "auto_creation_enabled", "auto_creation_type",
    "conversation_service_sid", "webhook_url", "webhook_method", "webhook_filters", "studio_flow_sid",
    "studio_retry_count",
)


async def insert_address_configuration(conn: Connection, *, account_sid: str, values: dict[str, Any]) -> AddressConfiguration:
    columns = ["sid", "account_sid", *values]
    placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO address_configurations ({', '.join(columns)}) VALUES ({placeholders}) "
        f"RETURNING {_ADDRESS_COLUMNS}",
        new_sid("IG"), account_sid, *values.values(),
    )
    return _build(AddressConfiguration, row)  # type: ignore[no-any-return]


async def update_address_configuration(
    conn: Connection, *, account_sid: str, sid: str, values: dict[str, Any]
) -> AddressConfiguration | None:
    assignments = [f"{column} = ${n}" for n, column in enumerate(values, start=3)]
    row = await conn.fetchrow(
        f"UPDATE address_configurations SET {', '.join([*assignments, 'date_updated = now()'])} "
        f"WHERE account_sid = $1 AND sid = $2 RETURNING {_ADDRESS_COLUMNS}",
        account_sid, sid, *values.values(),
    )
    return _build(AddressConfiguration, row)  # type: ignore[no-any-return]


async def get_address_configuration(conn: Connection, *, account_sid: str, sid_or_address: str) -> AddressConfiguration | None:
    """By SID or by the address itself, as Twilio allows both in the path."""
    row = await conn.fetchrow(
        f"SELECT {_ADDRESS_COLUMNS} FROM address_configurations WHERE account_sid = $1 AND (sid = $2 OR address = $2)",
        account_sid, sid_or_address,
    )
    return _build(AddressConfiguration, row)  # type: ignore[no-any-return]


async def find_address_configuration_by_sid(conn: Connection, *, sid: str) -> AddressConfiguration | None:
    """Any account's, by SID alone: a web-chat widget names only its chat address (SIDs are unique)."""
    row = await conn.fetchrow(f"SELECT {_ADDRESS_COLUMNS} FROM address_configurations WHERE sid = $1", sid)
    return _build(AddressConfiguration, row)  # type: ignore[no-any-return]


async def list_address_configurations(
    conn: Connection, *, account_sid: str, type_: str | None, after: str | None, before: str | None, limit: int
) -> list[AddressConfiguration]:
    if before is not None:
        rows = await conn.fetch(
            f"SELECT * FROM (SELECT {_ADDRESS_COLUMNS} FROM address_configurations WHERE account_sid = $1 "
            f"AND ($2::text IS NULL OR type = $2) AND sid < $3 ORDER BY sid DESC LIMIT $4) page ORDER BY sid",
            account_sid, type_, before, limit,
        )
    else:
        rows = await conn.fetch(
            f"SELECT {_ADDRESS_COLUMNS} FROM address_configurations WHERE account_sid = $1 "
            f"AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR sid > $3) ORDER BY sid LIMIT $4",
            account_sid, type_, after, limit,
        )
    return [_build(AddressConfiguration, row) for row in rows]


async def delete_address_configuration(conn: Connection, *, account_sid: str, sid: str) -> bool:
    result = await conn.execute("DELETE FROM address_configurations WHERE account_sid = $1 AND sid = $2", account_sid, sid)
    return bool(result.endswith(" 1"))
