"""What the delivery log forgets, and when: finished deliveries, replayed dead letters and old failure
reports past `PARLEY_WEBHOOK_RETENTION_DAYS`. A parked dead letter is never pruned (nor the delivery
it belongs to): nothing accepted is dropped silently."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg

from shared.retention import Pruning, pruning_loop
from shared.settings import Settings


def retention_loop(pool: asyncpg.Pool, settings: Settings) -> Callable[[], Awaitable[None]]:
    return pruning_loop(pool, prunings(settings), interval_seconds=settings.retention_interval_seconds)


def prunings(settings: Settings) -> list[tuple[str, Pruning]]:
    keep = timedelta(days=settings.webhook_retention_days)
    return [
        ("deliveries", Pruning(
            "finished deliveries",
            "SELECT d.ctid FROM deliveries d WHERE d.status IN ('delivered', 'failed') "
            "AND d.date_updated < now() - $1::interval AND NOT EXISTS "
            "(SELECT 1 FROM dead_letters x WHERE x.delivery_sid = d.sid AND x.status = 'parked') LIMIT $2",
            keep,
        )),
        ("dead_letters", Pruning(
            "replayed dead letters",
            "SELECT ctid FROM dead_letters WHERE status = 'replayed' AND date_updated < now() - $1::interval LIMIT $2",
            keep,
        )),
        # A dead letter keeps a copy of its error, so the reports themselves can go.
        ("consumer_failures", Pruning(
            "failure reports",
            "SELECT ctid FROM consumer_failures WHERE date_reported < now() - $1::interval LIMIT $2",
            keep,
        )),
    ]
