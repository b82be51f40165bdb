"""REST read paths: fetch-conversation and list-messages throughput and latency, and keyset paging's
promise that a page deep in a 100,000-message conversation costs what the first page costs.

The big conversation is seeded straight into the conversations schema (100,000 REST calls would
only measure the seeding); everything measured goes through the HTTP API of a running Parley.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time

import asyncpg
import httpx

from bench.support import DATABASE_URL, parley_process, percentile
from shared.crypto import box_of
from shared.paging import PageTokenKeys, page_token, page_token_keys


async def seed_messages(prefix: str, conversation_sid: str, account_sid: str, count: int) -> None:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        schema = f'"{prefix}_conversations"'
        await conn.execute(
            f"INSERT INTO {schema}.messages (sid, account_sid, conversation_sid, index, author, body) "
            f"SELECT 'IM' || md5(random()::text || n), $1, $2, n, 'bench', 'message ' || n "
            f"FROM generate_series(0, $3 - 1) AS n",
            account_sid, conversation_sid, count,
        )
        await conn.execute(f"UPDATE {schema}.conversations SET last_message_index = $2 - 1 WHERE sid = $1",
                           conversation_sid, count)
        await conn.execute(f"ANALYZE {schema}.messages")
    finally:
        await conn.close()


async def measure(client: httpx.AsyncClient, path: str, *, requests: int, concurrency: int,
                  params: dict[str, str] | None = None) -> tuple[float, list[float]]:
    latencies: list[float] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with semaphore:
            started = time.perf_counter()
            response = await client.get(path, params=params)
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(requests)))
    return requests / (time.perf_counter() - started), latencies


def report(name: str, rate: float, latencies: list[float]) -> None:
    print(f"{name:<46} {rate:8,.0f} req/s   p50 {percentile(latencies, 0.5):6.1f} ms   "
          f"p99 {percentile(latencies, 0.99):6.1f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    async with parley_process() as parley, httpx.AsyncClient(
        base_url=parley.base_url, auth=(parley.account_sid, parley.auth_token), timeout=60,
        limits=httpx.Limits(max_connections=args.concurrency),
    ) as client:
        created = await client.post("/conversations/v1/Conversations",
                                    data={"FriendlyName": "bench", "UniqueName": f"bench-{secrets.token_hex(3)}"})
        created.raise_for_status()
        sid = created.json()["sid"]
        started = time.perf_counter()
        await seed_messages(parley.prefix, sid, parley.account_sid, args.messages)
        print(f"seeded {args.messages:,} messages in {time.perf_counter() - started:.1f}s")
        messages = f"/conversations/v1/Conversations/{sid}/Messages"
        report("fetch conversation", *await measure(client, f"/conversations/v1/Conversations/{sid}",
                                                    requests=args.requests, concurrency=args.concurrency))
        report("list messages, first page (50)", *await measure(client, messages, requests=args.requests,
                                                                concurrency=args.concurrency))
        late = args.messages - 100
        with page_token_keys(PageTokenKeys.of(box_of(parley.secret_key))):  # a token as Parley would issue
            token = page_token(late // 50, after=late)
        report(f"list messages, page after index {late:,} (50)", *await measure(
            client, messages, requests=args.requests, concurrency=args.concurrency,
            params={"PageSize": "50", "Page": str(late // 50), "PageToken": token}))
        report("list messages, newest first (50)", *await measure(
            client, messages, requests=args.requests, concurrency=args.concurrency, params={"Order": "desc"}))


if __name__ == "__main__":
    asyncio.run(main())
