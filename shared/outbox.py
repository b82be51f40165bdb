"""The transactional outbox: write events with the change that causes them; a relay publishes them.

`add_to_outbox` must be called inside the caller's transaction. The relay takes an advisory
lock so exactly one instance per schema publishes at a time, in insertion order; it publishes
with confirms and deletes only what the broker confirmed. A crash between confirm and delete
republishes: consumers are idempotent by `message_id`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from typing import Any

import asyncpg

from shared.broker.connection import Broker
from shared.contracts.envelope import Envelope
from shared.notifications import Wakeup
from shared.outages import Outage, is_infrastructure_failure

log = logging.getLogger(__name__)

_BATCH = 500


def _channel(schema: str) -> str:
    """The NOTIFY channel of a schema's outbox; `add_to_outbox` builds the same name in SQL."""
    return f"outbox_{schema}"


async def add_to_outbox(
    conn: asyncpg.Connection,
    *,
    exchange: str,
    envelope: Envelope[Any],
    headers: dict[str, Any] | None = None,
) -> None:
    # One round trip: the row, and a wake-up for the relay (delivered at commit, once per transaction).
    await conn.execute(
        "WITH added AS (INSERT INTO outbox (message_id, exchange, routing_key, body, headers) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING 1) "
        "SELECT pg_notify('outbox_' || current_schema(), '') FROM added",
        envelope.message_id,
        exchange,
        envelope.type,
        envelope.to_bytes(),
        headers or {},
    )


async def add_many_to_outbox(conn: asyncpg.Connection, items: list[tuple[str, Envelope[Any]]]) -> None:
    """Many (exchange, envelope) rows in one statement, for callers that batch their work."""
    if not items:
        return
    await conn.execute(
        "WITH added AS (INSERT INTO outbox (message_id, exchange, routing_key, body, headers) "
        "SELECT m, x, k, b, '{}'::jsonb FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[]) AS u(m, x, k, b) "
        "RETURNING 1) SELECT pg_notify('outbox_' || current_schema(), '') FROM (SELECT 1 FROM added LIMIT 1) one",
        [envelope.message_id for _, envelope in items], [exchange for exchange, _ in items],
        [envelope.type for _, envelope in items], [envelope.to_bytes() for _, envelope in items],
    )


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, broker: Broker, *, schema: str, poll_interval: float) -> None:
        self._pool = pool
        self._broker = broker
        self._schema = schema
        self._poll_interval = poll_interval
        self._lock_key = zlib.crc32(f"parley-outbox:{schema}".encode())
        self._finishing = False
        self._wakeup: Wakeup | None = None

    def finish(self) -> None:
        """Return from `run` once what is committed by now is published (a graceful stop)."""
        self._finishing = True
        if self._wakeup is not None:
            self._wakeup.set()

    async def run(self) -> None:
        wakeup = self._wakeup = Wakeup(self._pool, [_channel(self._schema)], where=f"the outbox of {self._schema}")
        outage = Outage(log, f"the outbox relay of {self._schema}")
        await wakeup.start()
        try:
            while True:
                # Read before the batch: only a batch begun after `finish` has seen everything committed before it.
                finishing = self._finishing
                try:
                    moved = await self.relay_batch()
                    outage.recovered()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    moved = 0
                    if is_infrastructure_failure(error):
                        outage.failed(error)
                        await outage.pause()  # back within seconds of the database, whatever the poll interval
                        continue
                    log.exception("outbox relay failed; retrying", extra={"schema": self._schema})
                    await asyncio.sleep(self._poll_interval)
                if moved < _BATCH:
                    if finishing:
                        return
                    wakeup.clear()
                    await wakeup.wait(self._poll_interval)
        finally:
            await wakeup.stop()

    async def relay_batch(self) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", self._lock_key):
                return 0
            rows = await conn.fetch(
                "SELECT id, message_id, exchange, routing_key, body, headers FROM outbox ORDER BY id LIMIT $1", _BATCH
            )
            if not rows:
                return 0
            await asyncio.gather(
                *(
                    self._broker.publish(
                        row["exchange"],
                        row["routing_key"],
                        row["body"],
                        message_id=str(row["message_id"]),
                        headers=_headers(row["headers"]),
                    )
                    for row in rows
                )
            )
            await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [row["id"] for row in rows])
            return len(rows)


def _headers(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded: dict[str, Any] = json.loads(value)
        return loaded
    return dict(value or {})
