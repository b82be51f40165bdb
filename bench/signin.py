"""Agent sign-ins beside everyone else's requests: what 16 parallel sign-ins (argon2id password checks) cost
the other requests of the same process. A reader lists workspaces at a steady concurrency, first alone, then
while 16 clients sign in over and over; its p50 and p99 in both runs, and the sign-in rate, are printed.

Password checks run in PARLEY_PASSWORD_HASH_THREADS threads of their own (docs/auth.md); `--threads` sets it.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench.support import parley_process, percentile

PASSWORD = "bench password 1234"
READ = "/taskrouter/v1/Workspaces"


async def read_for(client: httpx.AsyncClient, seconds: float, concurrency: int) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def reader() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            (await client.get(READ)).raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(reader() for _ in range(concurrency)))
    return latencies


async def sign_in_until(client: httpx.AsyncClient, account_sid: str, email: str, stop: asyncio.Event) -> int:
    done = 0
    while not stop.is_set():
        answer = await client.post("/parley/v1/AccessTokens",
                                   data={"AccountSid": account_sid, "Email": email, "Password": PASSWORD})
        answer.raise_for_status()
        done += 1
    return done


def report(name: str, latencies: list[float]) -> None:
    print(f"{name:<44} {len(latencies):6} reads   p50 {percentile(latencies, 0.5):6.1f} ms   "
          f"p99 {percentile(latencies, 0.99):6.1f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--signers", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="PARLEY_PASSWORD_HASH_THREADS")
    args = parser.parse_args()
    async with parley_process(PARLEY_PASSWORD_HASH_THREADS=str(args.threads)) as parley, httpx.AsyncClient(
        base_url=parley.base_url, auth=(parley.account_sid, parley.auth_token), timeout=60,
    ) as account, httpx.AsyncClient(base_url=parley.base_url, timeout=120,
                                    limits=httpx.Limits(max_connections=args.signers)) as desks:
        emails = [f"agent{n}@example.com" for n in range(args.signers)]
        for n, email in enumerate(emails):
            created = await account.post("/parley/v1/Agents",
                                         data={"Identity": f"agent{n}", "Email": email, "Password": PASSWORD})
            created.raise_for_status()
        await read_for(account, 2, args.readers)  # warm-up
        report("others alone", await read_for(account, args.seconds, args.readers))
        stop = asyncio.Event()
        signers = [asyncio.create_task(sign_in_until(desks, parley.account_sid, email, stop)) for email in emails]
        started = time.perf_counter()
        during = await read_for(account, args.seconds, args.readers)
        stop.set()
        signed_in = sum(await asyncio.gather(*signers))
        report(f"others during {args.signers} parallel sign-ins", during)
        print(f"sign-ins: {signed_in / (time.perf_counter() - started):.1f}/s with {args.threads} hashing thread(s)")


if __name__ == "__main__":
    asyncio.run(main())
