"""Realtime fan-out: thousands of WebSockets on /ingress/ws, latency from a conversation event to every socket.

Parley runs as a subprocess; the bench mints access tokens with an API key of the account, opens the
sockets, makes each identity a participant of one of the conversations (participant.added on the
fabric, as the conversations service announces it), then announces message.added events and times
their arrival at every member socket.

`--agents N` runs the agent path instead: N available TaskRouter workers, each an agent's socket with a
worker grant; tasks arrive at a steady rate (`--rate` per second, through the REST API) and the bench
times each offer from the task's creation request to its `reservation.created` on the agent's socket
(create-to-screen), and from the router recording the reservation to the socket (offer-to-screen).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import datetime
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


def from_one_address(sockets: int) -> dict[str, str]:
    """Every bench socket comes from 127.0.0.1: the address cap (a guard against floods) must not be what is measured."""
    return {"PARLEY_REALTIME_SOCKETS_PER_ADDRESS": str(sockets)}


async def run(sockets: int, conversations: int, messages: int) -> None:
    async with parley_process(**from_one_address(sockets)) as parley:
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


async def run_agents(agents: int, tasks: int, rate: float) -> None:
    async with parley_process(**from_one_address(agents)) as parley, httpx.AsyncClient(
            base_url=parley.base_url, auth=(parley.account_sid, parley.auth_token), timeout=30) as http:
        key = await api_key(parley)

        async def created(path: str, data: dict[str, str]) -> dict[str, Any]:
            response = await http.post(path, data=data)
            assert response.status_code == 201, response.text
            return dict(response.json())

        workspace = await created("/taskrouter/v1/Workspaces", {"FriendlyName": "Bench agents"})
        ws = f"/taskrouter/v1/Workspaces/{workspace['sid']}"
        activities = {a["friendly_name"]: a["sid"] for a in (await http.get(f"{ws}/Activities")).json()["activities"]}
        queue = await created(f"{ws}/TaskQueues", {"FriendlyName": "Everyone", "TargetWorkers": "1 == 1"})
        workflow = await created(f"{ws}/Workflows", {"FriendlyName": "Bench", "Configuration": json.dumps(
            {"task_routing": {"filters": [], "default_filter": {"queue": queue["sid"]}}})})
        limit = asyncio.Semaphore(20)

        async def worker(n: int) -> str:
            async with limit:
                made = await created(f"{ws}/Workers", {"FriendlyName": f"agent-{n}", "Attributes": "{}",
                                                       "ActivitySid": activities["Available"]})
                return str(made["sid"])

        started = time.perf_counter()
        workers = await asyncio.gather(*(worker(n) for n in range(agents)))
        print(f"{agents} available workers in {time.perf_counter() - started:.1f}s")

        url = parley.base_url.replace("http://", "ws://") + "/ingress/ws?token="
        sent_at: dict[str, float] = {}  # task sid → when its creation was requested
        to_screen: list[float] = []  # creation requested → offer on the agent's socket
        from_event: list[float] = []  # reservation recorded (the event's occurred_at) → offer on the socket
        offers: set[str] = set()

        async def open_agent(n: int, worker_sid: str) -> ClientConnection:
            async with limit:
                grants = Grants(identity=f"agent-{n}", workspace_sid=workspace["sid"], worker_sid=worker_sid)
                socket = await connect(url + mint(key=key, grants=grants, ttl=3600), max_queue=None)
                await socket.recv()  # connected
                return socket

        async def read(socket: ClientConnection) -> None:
            async for raw in socket:
                arrived, wall = time.perf_counter(), time.time()
                message = json.loads(raw)
                if message.get("type") != "reservation.created":
                    continue
                task_sid = message["task"]["sid"]
                offers.add(task_sid)
                if task_sid in sent_at:
                    to_screen.append(arrived - sent_at[task_sid])
                if "occurred_at" in message:
                    from_event.append(wall - datetime.fromisoformat(message["occurred_at"]).timestamp())

        started = time.perf_counter()
        sockets = await asyncio.gather(*(open_agent(n, sid) for n, sid in enumerate(workers)))
        readers = [asyncio.create_task(read(socket)) for socket in sockets]
        print(f"{agents} agent sockets open in {time.perf_counter() - started:.1f}s")

        async def create_task(n: int) -> None:
            began = time.perf_counter()
            response = await http.post(f"{ws}/Tasks", data={"WorkflowSid": workflow["sid"],
                                                            "Attributes": json.dumps({"n": n})})
            assert response.status_code == 201, response.text
            sent_at.setdefault(response.json()["sid"], began)

        started = time.perf_counter()
        creating = []
        for n in range(tasks):  # a steady arrival rate, whatever the answers' latency
            creating.append(asyncio.create_task(create_task(n)))
            await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
        await asyncio.gather(*creating)
        deadline = time.monotonic() + 60
        while len(offers) < tasks and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
        print(f"{tasks} tasks at {rate:g}/s to {agents} agents: {len(offers)}/{tasks} offers on screen in {elapsed:.1f}s")
        print(f"create-to-screen p50 {percentile(to_screen, 0.5) * 1000:.1f} ms, "
              f"p99 {percentile(to_screen, 0.99) * 1000:.1f} ms")
        print(f"offer-to-screen p50 {percentile(from_event, 0.5) * 1000:.1f} ms, "
              f"p99 {percentile(from_event, 0.99) * 1000:.1f} ms")
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--agents", type=int, default=0, help="run the agent path with this many agents")
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--rate", type=float, default=10.0, help="tasks per second (agent path)")
    args = parser.parse_args()
    if args.agents:
        asyncio.run(run_agents(args.agents, min(args.tasks, args.agents), args.rate))
    else:
        asyncio.run(run(args.sockets, args.conversations, args.messages))


if __name__ == "__main__":
    main()
