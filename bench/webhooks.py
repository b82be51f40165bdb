"""Webhook delivery throughput: `webhook.deliver` commands published as conversations publishes them →
the webhooks service stores, claims and sends them → signed POSTs received on 127.0.0.1.

Two runs on one Parley: every endpoint healthy, then the same load with 10% of the endpoints slow
(each request held `--slow-seconds`). The figures to compare are the healthy endpoints' rate and
latency in both runs: per-endpoint limits should keep the slow ones from dragging them down.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time

import aio_pika
from starlette.requests import Request
from starlette.responses import Response

from bench.support import AMQP_URL, ParleyProcess, TimingReceiver, parley_process, percentile
from shared.broker.topology import COMMANDS
from shared.contracts.envelope import make_envelope
from shared.contracts.webhooks import DELIVER_WEBHOOK, WebhookDelivery


class SlowReceiver(TimingReceiver):
    def __init__(self, seconds: float) -> None:
        super().__init__(key=lambda fields: fields.get("N"))
        self.seconds = seconds

    async def _handle(self, request: Request) -> Response:
        await asyncio.sleep(self.seconds)
        return await super()._handle(request)


async def run(parley: ParleyProcess, *, deliveries: int, endpoints: int, slow: int, slow_seconds: float,
              conversations: int, quiet: bool = False) -> None:
    receivers: list[TimingReceiver] = [SlowReceiver(slow_seconds) for _ in range(slow)]
    receivers += [TimingReceiver(key=lambda fields: fields.get("N")) for _ in range(endpoints - slow)]
    for receiver in receivers:
        await receiver.start()
    tag = secrets.token_hex(3)
    sent_at: dict[str, float] = {}
    target_of: dict[str, TimingReceiver] = {}
    connection = await aio_pika.connect_robust(AMQP_URL)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{parley.prefix}.{COMMANDS}")
        started = time.perf_counter()

        async def publish(n: int) -> None:
            receiver = receivers[n % endpoints]
            name = f"{tag}-{n}"
            command = WebhookDelivery(
                event_type="onMessageAdded", target="account", url=receiver.url,
                params=[("EventType", "onMessageAdded"), ("N", name), ("Body", "x" * 160)],
                ordering_key=f"CH{tag}{n % conversations:026d}", resource_sid=f"CH{tag}{n % conversations:026d}",
            )
            envelope = make_envelope(DELIVER_WEBHOOK, command, account_sid=parley.account_sid)
            sent_at[name] = time.perf_counter()
            target_of[name] = receiver
            await exchange.publish(aio_pika.Message(envelope.to_bytes(), message_id=str(envelope.message_id),
                                                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                   routing_key=DELIVER_WEBHOOK, mandatory=True)

        semaphore = asyncio.Semaphore(64)

        async def bounded(n: int) -> None:
            async with semaphore:
                await publish(n)

        await asyncio.gather(*(bounded(n) for n in range(deliveries)))
        deadline = time.monotonic() + 600
        while (sum(1 for name, r in target_of.items() if name in r.arrivals) < deliveries
               and time.monotonic() < deadline):
            await asyncio.sleep(0.05)
    finally:
        await connection.close()
        for receiver in receivers:
            await receiver.stop()
    if quiet:
        return
    slow_set = set(receivers[:slow])

    def figures(healthy: bool) -> tuple[int, float, list[float]]:
        names = [n for n, r in target_of.items() if (r not in slow_set) == healthy and n in r.arrivals]
        if not names:
            return 0, 0.0, []
        last = max(target_of[n].arrivals[n] for n in names)
        latencies = [(target_of[n].arrivals[n] - sent_at[n]) * 1000 for n in names]
        return len(names), len(names) / (last - started), latencies

    count, rate, latencies = figures(healthy=True)
    print(f"  healthy endpoints: {count:,} deliveries, {rate:,.0f}/s; latency p50 {percentile(latencies, 0.5):.0f} ms, "
          f"p99 {percentile(latencies, 0.99):.0f} ms")
    if slow:
        count, rate, latencies = figures(healthy=False)
        print(f"  slow endpoints ({slow_seconds:g} s each): {count:,} deliveries, {rate:,.1f}/s; "
              f"latency p50 {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--endpoints", type=int, default=20)
    parser.add_argument("--conversations", type=int, default=300)
    parser.add_argument("--slow-seconds", type=float, default=1.0)
    args = parser.parse_args()
    async with parley_process() as parley:
        # Warm-up: connections, prepared statements, the planner's statistics.
        await run(parley, deliveries=200, endpoints=args.endpoints, slow=0, slow_seconds=0,
                  conversations=args.conversations, quiet=True)
        print(f"{args.deliveries:,} deliveries to {args.endpoints} local endpoints, "
              f"{args.conversations} ordering keys (conversations):")
        await run(parley, deliveries=args.deliveries, endpoints=args.endpoints, slow=0, slow_seconds=0,
                  conversations=args.conversations)
        slow = max(1, args.endpoints // 10)
        print(f"the same with {slow} of {args.endpoints} endpoints slow:")
        await run(parley, deliveries=args.deliveries, endpoints=args.endpoints, slow=slow,
                  slow_seconds=args.slow_seconds, conversations=args.conversations)


if __name__ == "__main__":
    asyncio.run(main())
