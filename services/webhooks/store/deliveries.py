"""Deliveries and their attempts: inserting, claiming due work under a lease, recording outcomes, listing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.webhooks.domain.models import Attempt, Delivery, DeliveryFilters
from services.webhooks.store.base import NOTIFY_DELIVERIES, Connection
from shared.contracts.webhooks import WebhookDelivery
from shared.sql import Query

__all__ = [
    "claim_candidates", "complete_attempt", "get_delivery", "get_delivery_for_update", "insert_delivery",
    "lease_deliveries", "list_attempts", "list_deliveries", "record_attempt_if_held", "release_leases",
    "renew_leases", "replay_deliveries", "seconds_until_next_due", "update_delivery_after_attempt",
]

_COLUMNS = (
    "sid, seq, account_sid, event_type, target, url, endpoint, method, params, resource_sid, ordering_key, "
    "timeout_seconds, status, attempt_count, budget_start, replays, next_attempt_at, error, date_created, date_updated, "
    "json_body"
)
_OPEN = "status IN ('pending', 'retrying')"


def _delivery(row: asyncpg.Record | dict[str, Any]) -> Delivery:
    values = dict(row)
    values["params"] = [(str(key), str(value)) for key, value in values["params"]]
    values["json_body"] = _json_body(values["json_body"])
    return Delivery(**values)


# jsonb holds the body as {"value": <the JSON>}, so a body that is JSON null stays apart from no body at all.
def _json_value(body: Any) -> dict[str, Any] | None:
    return None if body is None else {"value": body}


def _json_body(stored: Any) -> Any:
    return stored["value"] if isinstance(stored, dict) else None


async def insert_delivery(
    conn: Connection, *, sid: str, account_sid: str, message_id: uuid.UUID, correlation_id: str | None,
    command: WebhookDelivery, endpoint: str,
) -> bool:
    """Store a new delivery, due now, and wake the dispatchers at commit; False when this command was stored before."""
    inserted = await conn.fetchval(
        f"WITH added AS (INSERT INTO deliveries (sid, account_sid, message_id, correlation_id, event_type, target, "
        f"url, endpoint, method, params, resource_sid, ordering_key, timeout_seconds, json_body, next_attempt_at) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now()) "
        f"ON CONFLICT (sid) DO NOTHING RETURNING 1) "
        f"SELECT true, {NOTIFY_DELIVERIES} FROM added",
        sid, account_sid, message_id, correlation_id, command.event_type, command.target, command.url, endpoint,
        command.method, [list(pair) for pair in command.params], command.resource_sid, command.ordering_key,
        command.timeout_seconds, _json_value(command.json_body),
    )
    return bool(inserted)


async def claim_candidates(
    conn: Connection, *, limit: int, exclude_endpoints: Sequence[str], exclude_sids: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """Due deliveries nobody holds, locked until commit, as (sid, endpoint), earliest due first.

    Only the head of an ordering chain (same ordering key and URL) is a candidate: a later delivery
    waits while an earlier one is still pending or retrying. Rows other dispatchers are claiming
    right now are skipped, not waited for.
    """
    rows = await conn.fetch(
        f"SELECT d.sid, d.endpoint FROM deliveries d "
        f"WHERE d.{_OPEN} AND d.next_attempt_at <= now() "
        f"AND (d.lease_until IS NULL OR d.lease_until < now()) "
        f"AND d.endpoint <> ALL($2::text[]) AND d.sid <> ALL($3::text[]) "
        f"AND (d.ordering_key IS NULL OR NOT EXISTS ("
        f"  SELECT 1 FROM deliveries e WHERE e.ordering_key = d.ordering_key AND e.url = d.url "
        f"  AND e.{_OPEN} AND e.seq < d.seq)) "
        f"ORDER BY d.next_attempt_at, d.seq LIMIT $1 "
        f"FOR UPDATE OF d SKIP LOCKED",
        limit, list(exclude_endpoints), list(exclude_sids),
    )
    return [(row["sid"], row["endpoint"]) for row in rows]


# The attempt a dispatcher starts but never records stays 'in_flight' until the delivery is claimed again
# (or its lease given back): then nobody will record it, and the log says its outcome is unknown.
_ABANDONED = "UPDATE delivery_attempts SET status = 'unknown' WHERE delivery_sid = ANY({}) AND status = 'in_flight'"
# Recording what an attempt saw, also when it was meanwhile marked unknown (its dispatcher was only late).
_COMPLETE_ATTEMPT = (
    "UPDATE delivery_attempts SET status = 'completed', date_attempted = {date}, response_code = {code}, "
    "latency_ms = {latency}, error = {error} WHERE delivery_sid = {sid} AND number = {number}"
)


async def lease_deliveries(
    conn: Connection, *, sids: Sequence[str], lease_token: uuid.UUID, lease_seconds: float
) -> list[Delivery]:
    """Hold the claimed deliveries for their next attempt, and log that attempt as in flight before it is made.

    The lease is short and renewed while the attempt lasts (`renew_leases`); past it, another dispatcher may
    take the delivery over. The returned deliveries count the attempt starting now in `attempt_count`.
    """
    rows = await conn.fetch(
        f"WITH leased AS (UPDATE deliveries SET lease_token = $2, "
        f"lease_until = now() + make_interval(secs => $3), attempt_count = attempt_count + 1 "
        f"WHERE sid = ANY($1::text[]) RETURNING {_COLUMNS}), "
        f"abandoned AS ({_ABANDONED.format('$1::text[]')}), "
        f"started AS (INSERT INTO delivery_attempts (delivery_sid, number, date_attempted, status) "
        f"SELECT sid, attempt_count, now(), 'in_flight' FROM leased) "
        f"SELECT * FROM leased",
        list(sids), lease_token, lease_seconds,
    )
    by_sid = {row["sid"]: _delivery(row) for row in rows}
    return [by_sid[sid] for sid in sids if sid in by_sid]


async def renew_leases(conn: Connection, *, lease_tokens: Sequence[uuid.UUID], lease_seconds: float) -> int:
    """The live owner's heartbeat: every delivery it still holds under these tokens is held `lease_seconds` more."""
    status = await conn.execute(
        "UPDATE deliveries SET lease_until = now() + make_interval(secs => $2) WHERE lease_token = ANY($1::uuid[])",
        list(lease_tokens), lease_seconds,
    )
    return int(status.split()[-1])


async def get_delivery_for_update(conn: Connection, *, sid: str) -> tuple[Delivery, uuid.UUID | None] | None:
    """The delivery and the lease token holding it, locked until commit."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS}, lease_token FROM deliveries WHERE sid = $1 FOR UPDATE", sid)
    if row is None:
        return None
    values = dict(row)
    token = values.pop("lease_token")
    return _delivery(values), token


async def record_attempt_if_held(
    conn: Connection, *, claimed: Delivery, lease_token: uuid.UUID, date_attempted: datetime,
    response_code: int | None, latency_ms: int, attempt_error: str | None, status: str, delay: float | None,
    delivery_error: str | None,
) -> bool:
    """In one statement: record the outcome of attempt `claimed.attempt_count` and move the delivery on,
    provided nothing changed since the claim (lease still held, no replay, no other attempt). False, with only
    the attempt's outcome recorded, otherwise."""
    logged = _COMPLETE_ATTEMPT.format(sid="$1", number="$4", date="$6", code="$7", latency="$8", error="$11")
    recorded = await conn.fetchval(
        f"WITH logged AS ({logged}), moved AS ("
        " UPDATE deliveries SET status = $5, error = $9, lease_token = NULL,"
        " lease_until = NULL, next_attempt_at = CASE WHEN $10::double precision IS NULL THEN NULL"
        " ELSE now() + make_interval(secs => $10::double precision) END, date_updated = now()"
        " WHERE sid = $1 AND lease_token = $2 AND replays = $3 AND attempt_count = $4 RETURNING sid)"
        " SELECT true FROM moved",
        claimed.sid, lease_token, claimed.replays, claimed.attempt_count, status, date_attempted, response_code,
        latency_ms, delivery_error, delay, attempt_error,
    )
    return bool(recorded)


async def update_delivery_after_attempt(
    conn: Connection, *, sid: str, status: str | None = None, delay: float | None = None, error: str | None = None,
) -> None:
    """Release the lease (the caller holds it); with a `status`, move the delivery on (a retry falls due after
    `delay` seconds). Without one, the status stays as a replay left it."""
    if status is None:
        await conn.execute(
            "UPDATE deliveries SET lease_token = NULL, lease_until = NULL, date_updated = now() WHERE sid = $1", sid
        )
        return
    await conn.execute(
        "UPDATE deliveries SET status = $2, error = $4, lease_token = NULL, lease_until = NULL, "
        "next_attempt_at = CASE WHEN $3::double precision IS NULL THEN NULL "
        "ELSE now() + make_interval(secs => $3::double precision) END, date_updated = now() WHERE sid = $1",
        sid, status, delay, error,
    )


async def release_leases(conn: Connection, *, lease_tokens: Sequence[uuid.UUID]) -> None:
    """Give back deliveries a stopping dispatcher held, so a restart or another instance takes them at once;
    the attempts it leaves unrecorded are marked as of unknown outcome."""
    await conn.execute(
        f"WITH released AS (UPDATE deliveries SET lease_token = NULL, lease_until = NULL "
        f"WHERE lease_token = ANY($1::uuid[]) RETURNING sid) "
        f"{_ABANDONED.format('ARRAY(SELECT sid FROM released)')}",
        list(lease_tokens),
    )


async def seconds_until_next_due(conn: Connection) -> float | None:
    """How long until the next open delivery falls due; None when none waits in the future."""
    value = await conn.fetchval(
        f"SELECT extract(epoch FROM min(next_attempt_at) - now()) FROM deliveries "
        f"WHERE {_OPEN} AND next_attempt_at > now()"
    )
    return float(value) if value is not None else None




async def complete_attempt(
    conn: Connection, *, delivery_sid: str, number: int, date_attempted: datetime, response_code: int | None,
    latency_ms: int, error: str | None,
) -> None:
    """Record what attempt `number` saw."""
    await conn.execute(
        _COMPLETE_ATTEMPT.format(sid="$1", number="$2", date="$3", code="$4", latency="$5", error="$6"),
        delivery_sid, number, date_attempted, response_code, latency_ms, error,
    )


def _matching(account_sid: str, filters: DeliveryFilters) -> Query:
    """The account's deliveries, narrowed by only the filters given (so the planner sees each one)."""
    where = Query().where("account_sid = {}", account_sid)
    where.maybe("status = {}", filters.status)
    where.maybe("event_type = {}", filters.event_type)
    where.maybe("target = {}", filters.target)
    where.maybe("resource_sid = {}", filters.resource_sid)
    where.maybe("url = {}", filters.url)
    return where


async def get_delivery(conn: Connection, *, account_sid: str, sid: str) -> Delivery | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM deliveries WHERE account_sid = $1 AND sid = $2", account_sid, sid)
    return _delivery(row) if row else None


async def list_deliveries(
    conn: Connection, *, account_sid: str, filters: DeliveryFilters, after: int | None, before: int | None, limit: int
) -> list[Delivery]:
    """One page in arrival order; `after`/`before` are the `seq` of the row seen last."""
    where = _matching(account_sid, filters)
    where.maybe("seq < {}", before)
    where.maybe("seq > {}", after)
    descending = before is not None
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM deliveries WHERE {where.clause()} ORDER BY seq {'DESC' if descending else 'ASC'} "
        f"LIMIT {where.param(limit)}",
        *where.params,
    )
    deliveries = [_delivery(row) for row in rows]
    return deliveries[::-1] if descending else deliveries


async def list_attempts(conn: Connection, *, delivery_sids: Sequence[str]) -> dict[str, list[Attempt]]:
    rows = await conn.fetch(
        "SELECT delivery_sid, number, status, date_attempted, response_code, latency_ms, error FROM delivery_attempts "
        "WHERE delivery_sid = ANY($1::text[]) ORDER BY delivery_sid, number",
        list(delivery_sids),
    )
    attempts: dict[str, list[Attempt]] = {sid: [] for sid in delivery_sids}
    for row in rows:
        attempts[row["delivery_sid"]].append(Attempt(**dict(row)))
    return attempts


async def replay_deliveries(
    conn: Connection, *, account_sid: str, sid: str | None = None, filters: DeliveryFilters | None = None
) -> list[str]:
    """Make deliveries due again with a fresh attempt budget; returns the SIDs replayed.

    A lease in force is kept: the attempt in flight finishes, then the delivery goes again.
    """
    where = _matching(account_sid, filters or DeliveryFilters())
    where.maybe("sid = {}", sid)
    rows = await conn.fetch(
        f"UPDATE deliveries SET status = 'pending', budget_start = attempt_count, replays = replays + 1, "
        f"next_attempt_at = now(), error = NULL, date_updated = now() WHERE {where.clause()} RETURNING sid",
        *where.params,
    )
    return [row["sid"] for row in rows]
