"""Router assignment throughput and decision cost: a backlog of waiting tasks drained by two dispatchers.

Workers with skill attributes and tasks across 20 skill queues are bulk-loaded into a fresh
schema (the REST path is not what is measured here); then two dispatcher processes, each with
its own pool and outbox relay, reserve workers. Reported: committed reservations per second
(first task committed → last reservation committed, and → last `reservation.created` consumed
from the broker), and p50/p99 of the decision itself (candidate query + choice), at two scales
to show how cost grows with the number of workers. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import aio_pika
import asyncpg

from bench.support import AMQP_URL, DATABASE_URL, percentile, remove_prefix
from services.router.app import SERVICE as ROUTER
from services.router.domain.expressions import parse
from services.router.domain.routing import queue_admits
from shared.broker.topology import EVENTS
from shared.runtime import prepare_database
from shared.settings import Settings

QUEUES = 20
NEVER = datetime(9999, 1, 1, tzinfo=UTC)  # the backlog must not expire while it drains


def settings_for(prefix: str) -> Settings:
    return Settings(DATABASE_URL=DATABASE_URL, AMQP_URL=AMQP_URL, PARLEY_SCHEMA_PREFIX=f"{prefix}_",
                    PARLEY_BROKER_PREFIX=f"{prefix}.", PARLEY_POLL_INTERVAL=0.2, PARLEY_LOG_JSON=False)


async def load(settings: Settings, *, workers: int, tasks: int, capacity: int) -> str:
    """One workspace, 20 queues `skills HAS 'sN'`, workers with 3 skills, tasks spread over the queues."""
    from services.router.handlers.workspaces import create_workspace

    await prepare_database(settings, [ROUTER])
    conn = await asyncpg.connect(settings.database_url)
    await conn.execute(f'SET search_path TO "{settings.schema_name("router")}"')
    from shared.db import _init_connection

    await _init_connection(conn)
    rng = random.Random(7)
    async with conn.transaction():
        workspace = await create_workspace(conn, account_sid="AC" + "b" * 32, friendly_name="bench", event_callback_url=None,
                                           events_filter=None, multi_task_enabled=True, prioritize_queue_order="FIFO",
                                           template=None, base="http://bench")
        ws = workspace.sid
        available = await conn.fetchval("SELECT sid FROM activities WHERE workspace_sid = $1 AND available", ws)
        chat = await conn.fetchval("SELECT sid FROM task_channels WHERE workspace_sid = $1 AND unique_name = 'chat'", ws)
        queue_sids = ["WQ" + secrets.token_hex(16) for _ in range(QUEUES)]
        await conn.executemany(
            "INSERT INTO task_queues (sid, account_sid, workspace_sid, friendly_name, target_workers) VALUES ($1,$2,$3,$4,$5)",
            [(sid, workspace.account_sid, ws, f"q{n}", f"skills HAS 's{n}'") for n, sid in enumerate(queue_sids)])
        config = {"task_routing": {"filters": [{"expression": f"skill == 's{n}'", "targets": [{"queue": sid}]}
                                               for n, sid in enumerate(queue_sids)]}}
        flow = "WW" + secrets.token_hex(16)
        await conn.execute("INSERT INTO workflows (sid, account_sid, workspace_sid, friendly_name, configuration) "
                           "VALUES ($1, $2, $3, 'bench', $4)", flow, workspace.account_sid, ws, json.dumps(config))
        worker_rows, channel_rows, members = [], [], []
        expressions = [parse(f"skills HAS 's{n}'") for n in range(QUEUES)]
        for n in range(workers):
            sid = "WK" + secrets.token_hex(16)
            # Balanced skills: every queue has the same share of members, so the backlog can drain.
            skills = sorted({(n + offset) % QUEUES for offset in (0, 7, 13)})
            attributes = {"skills": [f"s{k}" for k in skills], "level": rng.randint(1, 5)}
            worker_rows.append((sid, workspace.account_sid, ws, f"w{n}", json.dumps(attributes), available))
            channel_rows.append(("WC" + secrets.token_hex(16), workspace.account_sid, ws, sid, chat, capacity))
            members += [(queue_sids[q], sid) for q, expression in enumerate(expressions) if queue_admits(expression, attributes)]
        await conn.copy_records_to_table("workers", records=[(*row, True) for row in worker_rows], columns=[
            "sid", "account_sid", "workspace_sid", "friendly_name", "attributes", "activity_sid", "available"])
        await conn.copy_records_to_table("worker_channels", records=[(*row, True) for row in channel_rows], columns=[
            "sid", "account_sid", "workspace_sid", "worker_sid", "task_channel_sid", "configured_capacity",
            "worker_available"])
        await conn.copy_records_to_table("queue_members", records=members, columns=["task_queue_sid", "worker_sid"])
        task_rows = []
        for n in range(tasks):
            q = n % QUEUES
            task_rows.append(("WT" + secrets.token_hex(16), workspace.account_sid, ws, json.dumps({"skill": f"s{q}"}),
                              chat, flow, queue_sids[q], rng.randint(0, 3), 0))
        await conn.copy_records_to_table("tasks", records=[(*row, NEVER) for row in task_rows], columns=[
            "sid", "account_sid", "workspace_sid", "attributes", "task_channel_sid", "workflow_sid", "task_queue_sid",
            "routing_priority", "filter_index", "expires_at"])
    await conn.execute("ANALYZE")
    await conn.close()
    return ws


def dispatcher_process(prefix: str, results: Any) -> None:
    asyncio.run(_dispatch(prefix, results))


async def _dispatch(prefix: str, results: Any) -> None:
    from services.router.engine.dispatcher import Dispatcher
    from shared.broker.connection import Broker
    from shared.db import create_pool
    from shared.outbox import OutboxRelay

    settings = settings_for(prefix)
    # The app's pool size (shared/runtime.py): with fewer, the round waits for the relay's connection.
    pool = await create_pool(settings.database_url, schema=settings.schema_name("router"), max_size=10)
    broker = Broker(settings)
    await broker.connect()
    relay = OutboxRelay(pool, broker, schema=settings.schema_name("router"), poll_interval=0.05)
    dispatcher = Dispatcher(pool, base="http://bench", poll_interval=0.2)
    loops = [asyncio.create_task(relay.run()), asyncio.create_task(dispatcher.run())]
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": settings.schema_name("router")})
    try:  # its own connection, not one of the dispatcher's
        while await conn.fetchval("SELECT count(*) FROM tasks WHERE assignment_status = 'pending'"):
            await asyncio.sleep(0.2)
        while await conn.fetchval("SELECT count(*) FROM outbox"):
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    for loop in loops:
        loop.cancel()
    await asyncio.gather(*loops, return_exceptions=True)
    results.put({"samples": dispatcher.timings.samples, "reservations": dispatcher.timings.reservations,
                 "rounds": dispatcher.timings.rounds})
    await broker.close()
    await pool.close()


async def run_scale(workers: int, tasks: int, capacity: int, instances: int) -> None:
    prefix = "bench" + secrets.token_hex(3)
    settings = settings_for(prefix)
    try:
        started_load = time.perf_counter()
        ws = await load(settings, workers=workers, tasks=tasks, capacity=capacity)
        print(f"\n{workers:,} workers, {tasks:,} tasks, {QUEUES} queues, {instances} dispatchers "
              f"(loaded in {time.perf_counter() - started_load:.1f}s)")
        connection = await aio_pika.connect_robust(AMQP_URL)
        channel = await connection.channel()
        exchange = await channel.declare_exchange(settings.broker_name(EVENTS), aio_pika.ExchangeType.TOPIC, durable=True)
        sink = await channel.declare_queue(settings.broker_name("bench.router.events"), auto_delete=True)
        await sink.bind(exchange, routing_key="#")
        published = 0
        last_published = 0.0
        done = asyncio.Event()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal published, last_published
            if message.routing_key == "reservation.created":
                published += 1
                last_published = time.time()
                if published >= tasks:
                    done.set()
            await message.ack()

        await channel.set_qos(prefetch_count=1000)
        await sink.consume(on_message)
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        started = time.perf_counter()
        processes = [context.Process(target=dispatcher_process, args=(prefix, results)) for _ in range(instances)]
        for process in processes:
            process.start()
        outcomes = [await asyncio.to_thread(results.get) for _ in processes]
        with_commits = time.perf_counter() - started
        await asyncio.wait_for(done.wait(), timeout=120)
        conn = await asyncpg.connect(settings.database_url)
        await conn.execute(f'SET search_path TO "{settings.schema_name("router")}"')
        first = await conn.fetchval("SELECT min(date_created) FROM reservations WHERE workspace_sid = $1", ws)
        last = await conn.fetchval("SELECT max(date_created) FROM reservations WHERE workspace_sid = $1", ws)
        reserved = await conn.fetchval("SELECT count(*) FROM reservations WHERE workspace_sid = $1", ws)
        await conn.close()
        for process in processes:
            process.join()
        committed_span = (last - first).total_seconds() if first and last else 0.0
        samples = [s for outcome in outcomes for s in outcome["samples"]]
        print(f"  reservations committed:      {reserved:,} ({', '.join(str(o['reservations']) for o in outcomes)} per instance)")
        print(f"  committed reservations/s:    {reserved / committed_span:,.0f}  (first → last reservation commit)")
        print(f"  with reservation.created:    {published / (last_published - first.timestamp()):,.0f}/s  "
              f"(first reservation commit → last reservation.created consumed from the broker)")
        p50, p99 = percentile(samples, 0.5) * 1000, percentile(samples, 0.99) * 1000
        print(f"  decision p50 / p99:          {p50:.2f} ms / {p99:.2f} ms"
              f"  ({len(samples):,} decisions)")
        rounds = [r for outcome in outcomes for r in outcome["rounds"]]
        if rounds:
            seconds = [r[0] for r in rounds]
            print(f"  rounds (read, decide, write, commit): {len(rounds)}, {sum(r[1] for r in rounds) / len(rounds):,.0f} "
                  f"reservations each, p50 / p99 {percentile(seconds, 0.5) * 1000:.0f} / "
                  f"{percentile(seconds, 0.99) * 1000:.0f} ms")
        print(f"  wall time to drain:          {with_commits:.1f}s")
        await connection.close()
    finally:
        await remove_prefix(prefix)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks-per-worker", type=int, default=10)
    parser.add_argument("--scales", default="1000,10000", help="worker counts, comma-separated")
    parser.add_argument("--instances", type=int, default=2)
    options = parser.parse_args()
    for workers in (int(value) for value in options.scales.split(",")):
        # Capacity twice the load: skills overlap, so a queue must not starve because its members filled up elsewhere.
        await run_scale(workers, workers * options.tasks_per_worker, 2 * options.tasks_per_worker, options.instances)


if __name__ == "__main__":
    asyncio.run(main())
