"""A router killed with SIGKILL while it reserves loses no task and leaves no reservation stuck once restarted."""

import asyncio
import json
import signal

import httpx

from services.router.app import SERVICE as ROUTER
from shared.runtime import free_port
from tests.router.engine_checks import capacity_leaks, most_ever_held, router_connection
from tests.router.processes import ROOT, start_router_process, wait_until_serving
from tests.support.waiting import eventually

WORKERS = 30
TASKS = 240


async def test_killed_router_loses_no_task_and_leaves_no_stuck_reservation(launch, settings, event_tap) -> None:  # type: ignore[no-untyped-def]
    setup = await launch([ROUTER])
    account = setup.account
    async with setup.client() as http:
        ws = (await http.post(ROOT, data={"FriendlyName": "Crash"})).json()["sid"]
        acts = {x["friendly_name"]: x["sid"] for x in (await http.get(f"{ROOT}/{ws}/Activities")).json()["activities"]}
        queue = (await http.post(f"{ROOT}/{ws}/TaskQueues", data={"FriendlyName": "All"})).json()["sid"]
        flow = (await http.post(f"{ROOT}/{ws}/Workflows", data={
            "FriendlyName": "F", "TaskReservationTimeout": "2",
            "Configuration": json.dumps({"task_routing": {"default_filter": {"queue": queue}}})})).json()["sid"]
        for n in range(WORKERS):
            await http.post(f"{ROOT}/{ws}/Workers", data={"FriendlyName": f"w{n}", "ActivitySid": acts["Available"]})
    await setup.stop()  # from here on only the separate router processes run

    created: list[str] = []
    port = free_port()
    victim = start_router_process(settings, port)
    survivor = None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", auth=(account.sid, account.auth_token),
                                     timeout=10) as client:
            await wait_until_serving(client)

            async def create(n: int) -> None:
                try:
                    response = await client.post(f"{ROOT}/{ws}/Tasks", data={
                        "WorkflowSid": flow, "TaskChannel": "chat", "Attributes": json.dumps({"n": n})})
                except httpx.HTTPError:
                    return  # the process died under this request: its outcome is unknown, not promised
                if response.status_code == 201:
                    created.append(response.json()["sid"])

            creating = [asyncio.create_task(create(n)) for n in range(TASKS // 2)]
            conn = await router_connection(settings)
            try:
                await eventually(lambda: conn.fetchval("SELECT count(*) FROM reservations"),
                                 until=lambda n: n >= 10, timeout=60, what="reservations being made")
            finally:
                await conn.close()
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            await asyncio.gather(*creating)

        survivor = start_router_process(settings, port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", auth=(account.sid, account.auth_token),
                                     timeout=10) as client:
            await wait_until_serving(client)
            for _ in range(TASKS // 2, TASKS):
                response = await client.post(f"{ROOT}/{ws}/Tasks", data={"WorkflowSid": flow, "TaskChannel": "chat"})
                assert response.status_code == 201
                created.append(response.json()["sid"])
            conn = await router_connection(settings)
            try:
                # Timed-out workers went Offline; back to Available, some offers are accepted, the rest time out.
                workers = (await client.get(f"{ROOT}/{ws}/Workers", params={"PageSize": 100})).json()["workers"]
                for worker in workers:
                    await client.post(f"{ROOT}/{ws}/Workers/{worker['sid']}", data={"ActivitySid": acts["Available"]})
                pending = "SELECT sid, task_sid FROM reservations WHERE reservation_status = 'pending' LIMIT 5"
                offers = await eventually(lambda: conn.fetch(pending), until=lambda rows: len(rows) == 5, timeout=30)
                for row in offers:
                    await client.post(f"{ROOT}/{ws}/Tasks/{row['task_sid']}/Reservations/{row['sid']}",
                                      data={"ReservationStatus": "accepted"})
                await eventually(lambda: conn.fetchval(
                    "SELECT count(*) FROM reservations WHERE reservation_status = 'pending'"),
                    until=lambda n: n == 0, timeout=60, what="every pending reservation answered or timed out")
                statuses = dict(await conn.fetch(
                    "SELECT sid, assignment_status FROM tasks WHERE workspace_sid = $1", ws))
                assert set(created) <= set(statuses), "a task whose creation was acknowledged is gone"
                assert set(statuses.values()) <= {"assigned", "pending"}
                assert "assigned" in statuses.values()
                assert await conn.fetchval("SELECT count(*) FROM reservations WHERE reservation_status = 'timeout'") > 0
                assert await capacity_leaks(conn, ws) == []
                assert max((await most_ever_held(conn, ws)).values()) <= 1
            finally:
                await conn.close()
    finally:
        for process in (victim, survivor):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
