"""Failures consumers reported, the latest per message and queue, waiting to explain a dead letter."""

from __future__ import annotations

from datetime import datetime

from services.webhooks.store.base import Connection

__all__ = ["upsert_consumer_failure"]


async def upsert_consumer_failure(
    conn: Connection, *, queue: str, failed_message_id: str, error: str, delivery_count: int, date_reported: datetime
) -> None:
    """Keep the report unless a later one is already kept (reports may arrive out of order)."""
    await conn.execute(
        "INSERT INTO consumer_failures (queue, failed_message_id, error, delivery_count, date_reported) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (queue, failed_message_id) DO UPDATE "
        "SET error = excluded.error, delivery_count = excluded.delivery_count, date_reported = excluded.date_reported "
        "WHERE consumer_failures.date_reported <= excluded.date_reported",
        queue, failed_message_id, error, delivery_count, date_reported,
    )
