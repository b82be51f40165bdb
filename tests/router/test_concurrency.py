"""Two router processes on one database and broker: every task assigned exactly once, no worker over capacity.

The issue's full size: 200 workers (chat capacity 2), 2,000 tasks created in parallel through both
processes, agents accepting and completing every offer through either one. Capacity is checked by
replaying the event log: no worker channel ever held more offers than its capacity.
"""

import asyncio
import json

import httpx
import pytest

from services.router.app import SERVICE as ROUTER
from shared.runtime import free_port
from tests.router.engine_checks import capacity_leaks, most_ever_held, router_connection
from tests.router.processes import ROOT, start_router_process, stop_process, wait_until_serving
from tests.support.waiting import eventually

WORKERS = 200
TASKS = 2000
CHAT_CAPACITY = 2


@pytest.mark.timeout(600)  # about a minute on an idle 2-core machine; far longer when it is shared
async def test_two_router_processes_assign_every_task_exactly_once_within_capacity(launch, settings) -> None:  # type: ignore[no-untyped-def]
    setup = await launch([ROUTER])
    account = setup.account
    async with setup.client() as http:
        ws = (await http.post(ROOT, data={"FriendlyName": "Busy"})).json()["sid"]
        acts = {x["friendly_name"]: x["sid"] for x in (await http.get(f"{ROOT}/{ws}/Activities")).json()["activities"]}
        queue = (await http.post(f"{ROOT}/{ws}/TaskQueues", data={"FriendlyName": "All"})).json()["sid"]
        flow = (await http.post(f"{ROOT}/{ws}/Workflows", data={"FriendlyName": "F", "Configuration": json.dumps(
            {"task_routing": {"default_filter": {"queue": queue}}})})).json()["sid"]

        async def worker(n: int) -> None:
            sid = (await http.post(f"{ROOT}/{ws}/Workers", data={"FriendlyName": f"w{n}"})).json()["sid"]
            await http.post(f"{ROOT}/{ws}/Workers/{sid}/Channels/chat", data={"Capacity": CHAT_CAPACITY})
            await http.post(f"{ROOT}/{ws}/Workers/{sid}", data={"ActivitySid": acts["Available"]})

        await gather_limited([worker(n) for n in range(WORKERS)], 16)
    await setup.stop()  # from here on only the two router processes run

    ports = [free_port(), free_port()]
    processes = [start_router_process(settings, port) for port in ports]
    try:
        auth = (account.sid, account.auth_token)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", auth=auth, timeout=30) as a, \
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[1]}", auth=auth, timeout=30) as b:
            await wait_until_serving(a)
            await wait_until_serving(b)

            async def task(n: int) -> str:
                response = await (a if n % 2 else b).post(f"{ROOT}/{ws}/Tasks", data={
                    "WorkflowSid": flow, "TaskChannel": "chat", "Attributes": json.dumps({"n": n})})
                assert response.status_code == 201, response.text
                return str(response.json()["sid"])

            conn = await router_connection(settings)
            agents = asyncio.create_task(answer_reservations(a, b, settings, ws))
            try:
                created = await gather_limited([task(n) for n in range(TASKS)], 32)
                await eventually(lambda: conn.fetchval(
                    "SELECT count(*) FROM tasks WHERE workspace_sid = $1 AND assignment_status = 'completed'", ws),
                    until=lambda done: done == TASKS or agents.done(), timeout=480, what="every task completed")
                assert not agents.done(), f"the agents stopped: {agents.exception()!r}"
                agents.cancel()
                accepted = await conn.fetch(
                    "SELECT task_sid, count(*) AS n FROM reservations WHERE workspace_sid = $1 "
                    "AND reservation_status = 'completed' GROUP BY task_sid", ws)
                assert sorted(row["task_sid"] for row in accepted) == sorted(created)
                assert all(row["n"] == 1 for row in accepted)
                peaks = await most_ever_held(conn, ws)
                assert len(peaks) == WORKERS and max(peaks.values()) <= CHAT_CAPACITY
                assert sum(1 for value in peaks.values() if value == CHAT_CAPACITY) > 0
                assert await capacity_leaks(conn, ws) == []
            finally:
                agents.cancel()
                await asyncio.gather(agents, return_exceptions=True)
                await conn.close()
    finally:
        for process in processes:
            stop_process(process)


async def gather_limited(jobs: list, limit: int) -> list:  # type: ignore[type-arg]
    gate = asyncio.Semaphore(limit)

    async def one(job):  # type: ignore[no-untyped-def]
        async with gate:
            return await job
    return await asyncio.gather(*(one(job) for job in jobs))


async def answer_reservations(a: httpx.AsyncClient, b: httpx.AsyncClient, settings, ws: str) -> None:  # type: ignore[no-untyped-def]
    """Agents: accept every offer, then complete the task, through either router process.

    They watch the tables on a connection of their own (one asyncpg connection runs one query at a time)."""
    conn = await router_connection(settings)
    try:
        await _answer(a, b, conn, ws)
    finally:
        await conn.close()


async def _answer(a: httpx.AsyncClient, b: httpx.AsyncClient, conn, ws: str) -> None:  # type: ignore[no-untyped-def]
    while True:
        # Pending offers to accept, and accepted ones whose completion was lost, to complete.
        rows = await conn.fetch("SELECT sid, task_sid FROM reservations WHERE workspace_sid = $1 "
                                "AND reservation_status IN ('pending', 'accepted') LIMIT 100", ws)

        async def finish(n: int, sid: str, task_sid: str) -> None:
            client = a if n % 2 else b
            url = f"{ROOT}/{ws}/Tasks/{task_sid}/Reservations/{sid}"
            try:
                await client.post(url, data={"ReservationStatus": "accepted"})  # a 400 if accepted already
                await client.post(url, data={"ReservationStatus": "completed"})
            except httpx.HTTPError:
                pass  # a request lost to a slow, shared machine: what is left shows up again in the next pass

        await gather_limited([finish(n, row["sid"], row["task_sid"]) for n, row in enumerate(rows)], 16)
        if not rows:
            await asyncio.sleep(0.05)
