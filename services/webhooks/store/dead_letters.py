"""Dead letters: recording, listing within what an account may see, and marking replayed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from services.webhooks.domain.models import DeadLetter
from services.webhooks.store.base import Connection
from shared.sql import Query

__all__ = [
    "copy_failure_onto_dead_letters", "get_dead_letter", "insert_dead_letter", "list_dead_letters",
    "lock_message", "mark_dead_letters_replayed",
]

_COLUMNS = (
    "sid, seq, account_sid, source, queue, routing_key, reason, error, message_id, payload, body, headers, "
    "delivery_sid, status, date_created, date_updated"
)


def _visible(account_sid: str, *, top_level: bool) -> Query:
    """The account's dead letters; for a top-level account also those no account can be named for (the operator's)."""
    if top_level:
        return Query().where("(account_sid = {} OR account_sid IS NULL)", account_sid)
    return Query().where("account_sid = {}", account_sid)


def _dead_letter(row: asyncpg.Record) -> DeadLetter:
    values = dict(row)
    values["body"] = bytes(values["body"]) if values["body"] is not None else None
    values["headers"] = dict(values["headers"] or {})
    return DeadLetter(**values)


async def insert_dead_letter(
    conn: Connection, *, sid: str, account_sid: str | None, source: str, queue: str, routing_key: str, reason: str,
    error: str | None, message_id: str | None, payload: Any, body: bytes | None, headers: dict[str, Any],
    delivery_sid: str | None = None,
) -> bool:
    """Record a dead letter; False when this one was recorded before."""
    inserted = await conn.fetchval(
        "INSERT INTO dead_letters (sid, account_sid, source, queue, routing_key, reason, error, message_id, payload, "
        "body, headers, delivery_sid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
        "ON CONFLICT (sid) DO NOTHING RETURNING true",
        sid, account_sid, source, queue, routing_key, reason, error, message_id, payload, body, headers, delivery_sid,
    )
    return bool(inserted)


async def lock_message(conn: Connection, *, queue: str, message_id: str) -> None:
    """Serialise a message's dead letter and its failure reports, so whichever lands second sees the first."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"dead-letter:{queue}/{message_id}")


async def copy_failure_onto_dead_letters(conn: Connection, *, queue: str, message_id: str) -> None:
    """Give the message's parked dead letters the latest error its consumer reported."""
    await conn.execute(
        "UPDATE dead_letters d SET error = f.error, date_updated = now() FROM consumer_failures f "
        "WHERE d.queue = $1 AND d.message_id = $2 AND d.source = 'broker' AND d.status = 'parked' "
        "AND f.queue = d.queue AND f.failed_message_id = d.message_id AND d.error IS DISTINCT FROM f.error",
        queue, message_id,
    )


async def get_dead_letter(
    conn: Connection, *, account_sid: str, top_level: bool, sid: str, for_update: bool = False
) -> DeadLetter | None:
    where = _visible(account_sid, top_level=top_level)
    where.maybe("sid = {}", sid)
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM dead_letters WHERE {where.clause()}{' FOR UPDATE' if for_update else ''}", *where.params
    )
    return _dead_letter(row) if row else None


async def list_dead_letters(
    conn: Connection, *, account_sid: str, top_level: bool, queue: str | None, status: str | None,
    after: int | None, before: int | None, limit: int,
) -> list[DeadLetter]:
    """One page in the order they died; `after`/`before` are the `seq` of the row seen last."""
    where = _visible(account_sid, top_level=top_level)
    where.maybe("queue = {}", queue)
    where.maybe("status = {}", status)
    where.maybe("seq < {}", before)
    where.maybe("seq > {}", after)
    descending = before is not None
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM dead_letters WHERE {where.clause()} ORDER BY seq {'DESC' if descending else 'ASC'} "
        f"LIMIT {where.param(limit)}",
        *where.params,
    )
    dead_letters = [_dead_letter(row) for row in rows]
    return dead_letters[::-1] if descending else dead_letters


async def mark_dead_letters_replayed(
    conn: Connection, *, sids: Sequence[str] = (), delivery_sids: Sequence[str] = ()
) -> None:
    """Parked dead letters named directly, or parked for one of these webhook deliveries, become replayed."""
    await conn.execute(
        "UPDATE dead_letters SET status = 'replayed', date_updated = now() "
        "WHERE status = 'parked' AND (sid = ANY($1::text[]) OR delivery_sid = ANY($2::text[]))",
        list(sids), list(delivery_sids),
    )
