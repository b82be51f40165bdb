"""Flex Flows (FO…), Web Channels (CH…) and the account's Flex Configuration."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.router.domain.flex_flows import FlexFlow, WebChannel
from services.router.store.base import Connection, Keyset, assignments, build, fetch_page, touched_one
from shared.sids import new_sid
from shared.sql import Query

FLOW_COLUMNS = ("sid, account_sid, friendly_name, chat_service_sid, channel_type, contact_identity, enabled, "
                "integration_type, integration, long_lived, janitor_enabled, date_created, date_updated")
FLOW_FIELDS = ("friendly_name", "chat_service_sid", "channel_type", "contact_identity", "enabled", "integration_type",
               "integration", "long_lived", "janitor_enabled")
WEB_COLUMNS = "sid, account_sid, flex_flow_sid, identity, post_engagement_data, date_created, date_updated"


class AddressTaken(Exception):
    """Another enabled Flex Flow already answers this channel type and contact identity."""


async def _flow_row(conn: Connection, sql: str, *args: Any) -> FlexFlow | None:
    try:
        async with conn.transaction():  # type: ignore[union-attr]
            row = await conn.fetchrow(sql, *args)
    except asyncpg.UniqueViolationError as error:
        raise AddressTaken() from error
    return build(FlexFlow, row)  # type: ignore[no-any-return]


async def insert_flex_flow(conn: Connection, *, account_sid: str, values: dict[str, Any]) -> FlexFlow:
    columns = ", ".join(values)
    placeholders = ", ".join(f"${number}" for number in range(3, len(values) + 3))
    found = await _flow_row(conn, f"INSERT INTO flex_flows (sid, account_sid, {columns}) VALUES ($1, $2, "
                                  f"{placeholders}) RETURNING {FLOW_COLUMNS}",
                            new_sid("FO"), account_sid, *values.values())
    assert found is not None
    return found


async def get_flex_flow(conn: Connection, *, account_sid: str, sid: str, for_update: bool = False) -> FlexFlow | None:
    row = await conn.fetchrow(f"SELECT {FLOW_COLUMNS} FROM flex_flows WHERE sid = $1 AND account_sid = $2"
                              f"{' FOR UPDATE' if for_update else ''}", sid, account_sid)
    return build(FlexFlow, row)  # type: ignore[no-any-return]


async def list_flex_flows(conn: Connection, *, account_sid: str, friendly_name: str | None,
                          keyset: Keyset) -> list[FlexFlow]:
    query = Query().where("account_sid = {}", account_sid).maybe("friendly_name = {}", friendly_name)
    rows = await fetch_page(conn, select=f"SELECT {FLOW_COLUMNS} FROM flex_flows", query=query, keyset=keyset,
                            date_column="date_created", sid_column="sid")
    return [build(FlexFlow, row) for row in rows]


async def update_flex_flow(conn: Connection, *, sid: str, values: dict[str, Any]) -> FlexFlow:
    sets, params = assignments(values, FLOW_FIELDS)
    found = await _flow_row(conn, f"UPDATE flex_flows SET {sets} WHERE sid = $1 RETURNING {FLOW_COLUMNS}", sid, *params)
    assert found is not None
    return found


async def delete_flex_flow(conn: Connection, *, sid: str) -> bool:
    return touched_one(await conn.execute("DELETE FROM flex_flows WHERE sid = $1", sid))


async def insert_web_channel(conn: Connection, *, sid: str, account_sid: str, flex_flow_sid: str,
                             identity: str) -> WebChannel:
    row = await conn.fetchrow(
        f"INSERT INTO web_channels (sid, account_sid, flex_flow_sid, identity) VALUES ($1, $2, $3, $4) "
        f"RETURNING {WEB_COLUMNS}", sid, account_sid, flex_flow_sid, identity)
    return build(WebChannel, row)  # type: ignore[no-any-return]


async def get_web_channel(conn: Connection, *, account_sid: str, sid: str) -> WebChannel | None:
    row = await conn.fetchrow(f"SELECT {WEB_COLUMNS} FROM web_channels WHERE sid = $1 AND account_sid = $2",
                              sid, account_sid)
    return build(WebChannel, row)  # type: ignore[no-any-return]


async def list_web_channels(conn: Connection, *, account_sid: str, keyset: Keyset) -> list[WebChannel]:
    rows = await fetch_page(conn, select=f"SELECT {WEB_COLUMNS} FROM web_channels",
                            query=Query().where("account_sid = {}", account_sid), keyset=keyset,
                            date_column="date_created", sid_column="sid")
    return [build(WebChannel, row) for row in rows]


async def update_web_channel(conn: Connection, *, sid: str, post_engagement_data: str) -> WebChannel:
    row = await conn.fetchrow(
        f"UPDATE web_channels SET post_engagement_data = $2, date_updated = clock_timestamp() WHERE sid = $1 "
        f"RETURNING {WEB_COLUMNS}", sid, post_engagement_data)
    return build(WebChannel, row)  # type: ignore[no-any-return]


async def delete_web_channel(conn: Connection, *, sid: str) -> bool:
    return touched_one(await conn.execute("DELETE FROM web_channels WHERE sid = $1", sid))


async def get_configuration(conn: Connection, *, account_sid: str) -> asyncpg.Record:
    """The account's configuration row, made on first use."""
    await conn.execute("INSERT INTO flex_configurations (account_sid) VALUES ($1) ON CONFLICT DO NOTHING", account_sid)
    row = await conn.fetchrow("SELECT account_sid, values, date_created, date_updated FROM flex_configurations "
                              "WHERE account_sid = $1", account_sid)
    assert row is not None
    return row


async def update_configuration(conn: Connection, *, account_sid: str, changes: dict[str, Any]) -> None:
    """Top-level keys replace (a JSON merge of one level, as Flex's configuration update does)."""
    await get_configuration(conn, account_sid=account_sid)
    await conn.execute("UPDATE flex_configurations SET values = values || $2::jsonb, date_updated = clock_timestamp() "
                       "WHERE account_sid = $1", account_sid, changes)
