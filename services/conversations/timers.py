"""The durable conversation timer: a loop that moves due conversations to inactive or closed.

Due times are columns (`date_inactive`, `date_closed`), so timers survive restarts; each sweep locks
the due rows with FOR UPDATE SKIP LOCKED and transitions them in the same transaction, so with
several instances every transition happens, and is announced, exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from services.conversations.handlers.conversations import Action, expire_due_timers
from shared.runtime import ServiceContext

_BATCH = 100


def timer_sweeper(context: ServiceContext) -> Callable[[], Awaitable[None]]:
    settings = context.settings
    # Timer transitions are Parley's own doing, not a REST action: they always fire webhooks.
    action = Action(base=settings.external_base_url(), source="API", webhooks=True,
                    timer_scale=settings.conversation_timer_scale)

    async def sweep_forever() -> None:
        while True:
            async with context.pool.acquire() as conn, conn.transaction():
                moved = await expire_due_timers(conn, action=action, limit=_BATCH)
            if moved < _BATCH:
                await asyncio.sleep(settings.poll_interval_seconds)

    return sweep_forever
