"""Keeping tables from growing forever: old rows are deleted in small batches on a timer.

Small batches keep each delete's locks and WAL short, so pruning never stalls the hot path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

log = logging.getLogger(__name__)

BATCH = 5_000


@dataclass(frozen=True)
class Pruning:
    """One kind of old row. `select_old` selects the `ctid`s of at most $2 rows older than $1 (a cutoff age)."""

    name: str
    select_old: str
    older_than: timedelta


PROCESSED_MESSAGES = "SELECT ctid FROM processed_messages WHERE processed_at < now() - $1::interval LIMIT $2"


async def prune(pool: asyncpg.Pool, pruning: Pruning, *, table: str) -> int:
    """Delete every row `pruning` selects, a batch per transaction; returns how many went."""
    removed = 0
    while True:
        result = await pool.execute(
            f"DELETE FROM {table} WHERE ctid IN ({pruning.select_old})", pruning.older_than, BATCH
        )
        count = int(result.split()[-1])
        removed += count
        if count < BATCH:
            return removed


def pruning_loop(
    pool: asyncpg.Pool, prunings: Sequence[tuple[str, Pruning]], *, interval_seconds: float
) -> Callable[[], Awaitable[None]]:
    """A background loop (for ServiceParts.loops or the runtime) pruning each (table, pruning) every interval."""

    async def run() -> None:
        while True:
            for table, pruning in prunings:
                removed = await prune(pool, pruning, table=table)
                if removed:
                    log.info("pruned old rows", extra={"table": table, "pruning": pruning.name, "rows": removed})
            await asyncio.sleep(interval_seconds)

    return run
