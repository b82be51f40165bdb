"""Two router instances on one database and broker: every task assigned once, no worker over capacity.

Scaled down from the issue's 200 workers / 2,000 tasks to 100 workers / 600 tasks so the test
stays well under a minute on a 2-core machine; `bench/router.py` runs the large numbers.
"""

import asyncio
import json

import httpx

from services.router.app import SERVICE as ROUTER
from shared.runtime import free_port
from tests.router.conftest import Router
from tests.router.engine_checks import capacity_leaks, most_ever_held, router_connection
from tests.support.waiting import eventually

WORKERS = 100
TASKS = 600
CHAT_CAPACITY = 2
ROOT = "/taskrouter/v1/Workspaces"


async def test_two_routers_assign_every_task_exactly_once_within_capacity(router: Router, launch, settings) -> None:  # type: ignore[no-untyped-def]
    second = await launch([ROUTER], port=free_port())
    first = router.parley
    async with first.client() as a, second.client() as b:
        ws = (await a.post(ROOT, data={"FriendlyName": "Busy"})).json()["sid"]
        acts = {x["friendly_name"]: x["sid"] for x in (await a.get(f"{ROOT}/{ws}/Activities")).json()["activities"]}
        queue = (await a.post(f"{ROOT}/{ws}/TaskQueues", data={"FriendlyName": "All"})).json()["sid"]
        flow = (await a.post(f"{ROOT}/{ws}/Workflows", data={"FriendlyName": "F", "Configuration": json.dumps(
            {"task_routing": {"default_filter": {"queue": queue}}})})).json()["sid"]

        async def worker(n: int) -> None:
            client = a if n % 2 else b
            sid = (await client.post(f"{ROOT}/{ws}/Workers", data={"FriendlyName": f"w{n}"})).json()["sid"]
            await client.post(f"{ROOT}/{ws}/Workers/{sid}/Channels/chat", data={"Capacity": CHAT_CAPACITY})
            await client.post(f"{ROOT}/{ws}/Workers/{sid}", data={"ActivitySid": acts["Available"]})

        await gather_limited([worker(n) for n in range(WORKERS)], 16)

        async def task(n: int) -> str:
            client = a if n % 2 else b
            response = await client.post(f"{ROOT}/{ws}/Tasks", data={
                "WorkflowSid": flow, "TaskChannel": "chat", "Attributes": json.dumps({"n": n})})
            assert response.status_code == 201, response.text
            return str(response.json()["sid"])

        agents = asyncio.create_task(answer_reservations(a, b, settings, ws))
        try:
            created = await gather_limited([task(n) for n in range(TASKS)], 24)
            conn = await router_connection(settings)
            try:
                await eventually(lambda: conn.fetchval(
                    "SELECT count(*) FROM tasks WHERE workspace_sid = $1 AND assignment_status = 'completed'", ws),
                    until=lambda done: done == TASKS, timeout=120, what="every task completed")
                accepted = await conn.fetch(
                    "SELECT task_sid, count(*) AS n FROM reservations WHERE workspace_sid = $1 "
                    "AND reservation_status = 'completed' GROUP BY task_sid", ws)
                assert sorted(row["task_sid"] for row in accepted) == sorted(created)
                assert all(row["n"] == 1 for row in accepted)
                peaks = await most_ever_held(conn, ws)
                assert peaks and max(peaks.values()) <= CHAT_CAPACITY
                assert sum(1 for value in peaks.values() if value == CHAT_CAPACITY) > 0
                assert await capacity_leaks(conn, ws) == []
            finally:
                await conn.close()
        finally:
            agents.cancel()


async def gather_limited(jobs: list, limit: int) -> list:  # type: ignore[type-arg]
    gate = asyncio.Semaphore(limit)

    async def one(job):  # type: ignore[no-untyped-def]
        async with gate:
            return await job
    return await asyncio.gather(*(one(job) for job in jobs))


async def answer_reservations(a: httpx.AsyncClient, b: httpx.AsyncClient, settings, ws: str) -> None:  # type: ignore[no-untyped-def]
    """Agents: accept every offer, then complete the task, through either router instance."""
    conn = await router_connection(settings)
    try:
        while True:
            rows = await conn.fetch("SELECT sid, task_sid FROM reservations WHERE workspace_sid = $1 "
                                    "AND reservation_status = 'pending' LIMIT 50", ws)

            async def finish(n: int, sid: str, task_sid: str) -> None:
                client = a if n % 2 else b
                url = f"{ROOT}/{ws}/Tasks/{task_sid}/Reservations/{sid}"
                if (await client.post(url, data={"ReservationStatus": "accepted"})).status_code == 200:
                    await client.post(url, data={"ReservationStatus": "completed"})

            await gather_limited([finish(n, row["sid"], row["task_sid"]) for n, row in enumerate(rows)], 10)
            if not rows:
                await asyncio.sleep(0.05)
    finally:
        await conn.close()
