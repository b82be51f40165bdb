"""Retention forgets finished deliveries and processed ids past their age, never a parked dead letter."""

from datetime import timedelta

import asyncpg

from services.webhooks.app import SERVICE as WEBHOOKS
from services.webhooks.retention import prunings
from shared.retention import PROCESSED_MESSAGES, Pruning, prune
from tests.support.receiver import Receiver
from tests.webhooks.deliveries import delivery_command, delivery_reaching, delivery_sid, publish_delivery


async def test_old_finished_deliveries_go_but_a_parked_one_stays(launch, receiver: Receiver) -> None:
    parley = await launch([WEBHOOKS])
    receiver.responses = [404]  # the first is refused outright: failed and parked as a dead letter
    parked = await publish_delivery(parley, delivery_command(f"{receiver.url}/a"))
    async with parley.client() as client:
        await delivery_reaching(client, delivery_sid(parked), "failed")
        done = await publish_delivery(parley, delivery_command(f"{receiver.url}/b"))
        await delivery_reaching(client, delivery_sid(done), "delivered")
    schema = parley.settings.schema_name("webhooks")
    conn = await asyncpg.connect(parley.settings.database_url, server_settings={"search_path": schema})
    try:
        # Age everything by a year, then let retention do what a year of waiting would.
        await conn.execute("UPDATE deliveries SET date_updated = date_updated - interval '365 days'")
        await conn.execute("UPDATE processed_messages SET processed_at = processed_at - interval '365 days'")
        pool = await asyncpg.create_pool(parley.settings.database_url, min_size=1, max_size=1,
                                         server_settings={"search_path": schema})
        removed = {table: await prune(pool, pruning, table=table) for table, pruning in prunings(parley.settings)}
        forgotten = await prune(pool, Pruning("processed", PROCESSED_MESSAGES, timedelta(hours=168)),
                                table="processed_messages")
        await pool.close()
        remaining = [row["sid"] for row in await conn.fetch("SELECT sid FROM deliveries")]
        parked_letters = await conn.fetchval("SELECT count(*) FROM dead_letters WHERE status = 'parked'")
    finally:
        await conn.close()
    assert removed["deliveries"] == 1 and remaining == [delivery_sid(parked)]
    assert parked_letters == 1
    assert forgotten >= 2
