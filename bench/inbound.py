"""Inbound throughput and latency: signed provider POST → conversation → signed webhook received.

Also measures, in the same run, the floor the fabric allows on this machine (aio-pika publish
with confirm → quorum queue → consume → asyncpg insert → ack, no application logic), so the
end-to-end figure can be read as a fraction of it.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
import uuid

import aio_pika
import asyncpg
import httpx

from bench.support import AMQP_URL, DATABASE_URL, TimingReceiver, parley_process, percentile
from shared.signatures import twilio_signature

PARLEY_NUMBER = "+15550001111"
PROVIDER_TOKEN = "bench-provider-secret"


async def floor(messages: int, concurrency: int) -> float:
    """Raw fabric: publish with confirms into a quorum queue, consume, insert a row, ack."""
    name = f"bench.floor.{secrets.token_hex(4)}"
    connection = await aio_pika.connect_robust(AMQP_URL)
    pool = await asyncpg.create_pool(DATABASE_URL, min_size=4, max_size=8)
    assert pool is not None
    table = f"bench_floor_{secrets.token_hex(4)}"
    await pool.execute(f"CREATE TABLE {table} (id uuid PRIMARY KEY, body bytea, at timestamptz DEFAULT now())")
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
        consume_channel = await connection.channel()
        await consume_channel.set_qos(prefetch_count=100)
        consume_queue = await consume_channel.get_queue(name)
        done = asyncio.Event()
        count = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal count
            async with pool.acquire() as conn:
                await conn.execute(f"INSERT INTO {table} (id, body) VALUES ($1, $2)", uuid.UUID(message.message_id),
                                   message.body)
            await message.ack()
            count += 1
            if count == messages:
                done.set()

        await consume_queue.consume(on_message)
        semaphore = asyncio.Semaphore(concurrency)
        body = b"x" * 600

        async def publish_one() -> None:
            async with semaphore:
                await channel.default_exchange.publish(
                    aio_pika.Message(body, message_id=str(uuid.uuid4()), delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=name,
                )

        started = time.perf_counter()
        await asyncio.gather(*(publish_one() for _ in range(messages)))
        await asyncio.wait_for(done.wait(), timeout=300)
        elapsed = time.perf_counter() - started
        await queue.delete(if_unused=False, if_empty=False)
        return messages / elapsed
    finally:
        await pool.execute(f"DROP TABLE {table}")
        await pool.close()
        await connection.close()


async def setup(client: httpx.AsyncClient, receiver: TimingReceiver) -> str:
    provider = (await client.post("/parley/v1/Providers", data={
        "Type": "twilio", "FriendlyName": "bench", "Addresses": PARLEY_NUMBER,
        "Credentials.AccountSid": "AC" + "1" * 32, "Credentials.AuthToken": PROVIDER_TOKEN,
    })).json()
    response = await client.post("/conversations/v1/Configuration/Addresses", data={
        "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "webhook",
        "AutoCreation.WebhookUrl": receiver.url, "AutoCreation.WebhookFilters": "onMessageAdded",
    })
    response.raise_for_status()
    return str(provider["inbound_url"])


async def drive(inbound_url: str, receiver: TimingReceiver, *, messages: int, customers: int, concurrency: int,
                rate: float | None) -> tuple[float, list[float]]:
    """Send `messages` signed POSTs (open loop at `rate`/s when given, else as fast as `concurrency` allows)."""
    sent_at: dict[str, float] = {}
    semaphore = asyncio.Semaphore(concurrency)
    run = secrets.token_hex(3)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency), timeout=60) as client:

        async def post(n: int) -> None:
            async with semaphore:
                tag = f"{run}-{n}"
                form = {"MessageSid": "SM" + uuid.uuid4().hex, "From": f"+1555{n % customers:07d}", "To": PARLEY_NUMBER,
                        "Body": tag, "NumMedia": "0", "AccountSid": "AC" + "1" * 32}
                signature = twilio_signature(inbound_url, list(form.items()), PROVIDER_TOKEN)
                sent_at[tag] = time.perf_counter()
                for attempt in range(3):  # as a provider would: the same MessageSid again, stored once
                    try:
                        response = await client.post(inbound_url, data=form, headers={"X-Twilio-Signature": signature})
                        break
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
                response.raise_for_status()

        started = time.perf_counter()
        tasks = []
        for n in range(messages):
            if rate is not None:
                delay = started + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(n)))
        await asyncio.gather(*tasks)
    deadline = time.monotonic() + 300
    while sum(1 for tag in sent_at if tag in receiver.arrivals) < messages and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    arrived = [tag for tag in sent_at if tag in receiver.arrivals]
    elapsed = max(receiver.arrivals[tag] for tag in arrived) - started
    latencies = [(receiver.arrivals[tag] - sent_at[tag]) * 1000 for tag in arrived]
    return len(arrived) / elapsed, latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()

    floor_rate = await floor(args.messages, args.concurrency)
    print(f"floor (publish+confirm → quorum queue → consume → insert → ack): {floor_rate:,.0f} msg/s")

    receiver = TimingReceiver(key=lambda fields: fields.get("Body"))
    await receiver.start()
    try:
        async with parley_process() as parley, httpx.AsyncClient(
            base_url=parley.base_url, auth=(parley.account_sid, parley.auth_token), timeout=30
        ) as client:
            inbound_url = await setup(client, receiver)
            # Warm-up creates the customers' conversations, so the measured runs are steady state.
            await drive(inbound_url, receiver, messages=args.customers, customers=args.customers,
                        concurrency=args.concurrency, rate=None)
            peak, latencies = await drive(inbound_url, receiver, messages=args.messages, customers=args.customers,
                                          concurrency=args.concurrency, rate=None)
            print(f"end to end, peak: {peak:,.0f} msg/s ({peak / floor_rate:.0%} of the floor); "
                  f"latency p50 {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms")
            half = peak / 2
            _, paced = await drive(inbound_url, receiver, messages=min(args.messages, int(half * 10)),
                                   customers=args.customers, concurrency=args.concurrency, rate=half)
            print(f"end to end at half peak ({half:,.0f} msg/s): latency p50 {percentile(paced, 0.5):.0f} ms, "
                  f"p99 {percentile(paced, 0.99):.0f} ms")
    finally:
        await receiver.stop()


if __name__ == "__main__":
    asyncio.run(main())
