"""Realtime fan-out: thousands of WebSockets on /ingress/ws, latency from a conversation event to every socket.

Parley runs as a subprocess; the bench mints access tokens with an API key of the account, opens the
sockets, makes each identity a participant of one of the conversations (participant.added on the
fabric, as the conversations service announces it), then announces message.added events and times
their arrival at every member socket.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import aio_pika
import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.support import AMQP_URL, ParleyProcess, parley_process, percentile
from shared.access_tokens import Grants, mint
from shared.auth.keys import ApiKey
from shared.contracts.conversations import ResourceEvent
from shared.contracts.envelope import make_envelope
from shared.sids import new_sid


async def api_key(parley: ParleyProcess) -> ApiKey:
    async with httpx.AsyncClient(base_url=parley.base_url, auth=(parley.account_sid, parley.auth_token)) as client:
        body = (await client.post(f"/api/2010-04-01/Accounts/{parley.account_sid}/Keys.json")).json()
    return ApiKey(sid=body["sid"], account_sid=parley.account_sid, friendly_name=None, secret=body["secret"],
                  managed=False, date_created=None, date_updated=None)  # type: ignore[arg-type]


async def run(sockets: int, conversations: int, messages: int) -> None:
    async with parley_process() as parley:
        key = await api_key(parley)
        url = parley.base_url.replace("http://", "ws://") + "/ingress/ws?token="
        identities = [f"bench-{n}" for n in range(sockets)]
        sids = [new_sid("CH") for _ in range(conversations)]
        conversation_of = {identity: sids[n % conversations] for n, identity in enumerate(identities)}
        limit = asyncio.Semaphore(100)

        async def open_one(identity: str) -> ClientConnection:
            async with limit:
                ws = await connect(url + mint(key=key, grants=Grants(identity=identity), ttl=3600), max_queue=None)
                await ws.recv()  # connected
                return ws

        started = time.perf_counter()
        opened = await asyncio.gather(*(open_one(identity) for identity in identities))
        print(f"{sockets} sockets open in {time.perf_counter() - started:.1f}s")

        connection = await aio_pika.connect_robust(AMQP_URL)
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{parley.prefix}.parley.events")

        async def announce(event_type: str, resource: dict[str, Any]) -> None:
            envelope = make_envelope(event_type, ResourceEvent(resource=resource), account_sid=parley.account_sid)
            await exchange.publish(aio_pika.Message(envelope.to_bytes(), message_id=str(envelope.message_id)),
                                   routing_key=event_type)

        arrivals: list[float] = []
        pending: dict[str, float] = {}
        joined: set[str] = set()

        async def read(ws: ClientConnection, identity: str) -> None:
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") == "message.added":
                    arrivals.append(time.perf_counter() - pending[message["resource"]["sid"]])
                elif message.get("type") == "participant.added" and message["resource"]["identity"] == identity:
                    joined.add(identity)

        readers = [asyncio.create_task(read(ws, identity)) for ws, identity in zip(opened, identities, strict=True)]
        for identity in identities:
            await announce("participant.added", {"sid": new_sid("MB"), "account_sid": parley.account_sid,
                                                 "conversation_sid": conversation_of[identity], "identity": identity})
        started = time.perf_counter()
        while len(joined) < sockets:  # every membership logged and announced before timing messages
            await asyncio.sleep(0.1)
        print(f"{sockets} memberships announced in {time.perf_counter() - started:.1f}s")

        expected = 0
        started = time.perf_counter()
        for index in range(messages):
            conversation = sids[index % conversations]
            sid = new_sid("IM")
            pending[sid] = time.perf_counter()
            expected += sum(1 for identity in identities if conversation_of[identity] == conversation)
            await announce("message.added", {"sid": sid, "account_sid": parley.account_sid, "index": index,
                                             "conversation_sid": conversation, "author": "bench", "body": "hello"})
            await asyncio.sleep(0.02)
        deadline = time.monotonic() + 60
        while len(arrivals) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
        print(f"{messages} messages to {conversations} conversations of {sockets // conversations} sockets: "
              f"{len(arrivals)}/{expected} deliveries in {elapsed:.1f}s")
        print(f"fan-out latency p50 {percentile(arrivals, 0.5) * 1000:.1f} ms, "
              f"p99 {percentile(arrivals, 0.99) * 1000:.1f} ms")
        for task in readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--messages", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(run(args.sockets, args.conversations, args.messages))


if __name__ == "__main__":
    main()
