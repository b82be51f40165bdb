"""Cancel raced against accept, many times over, through two router instances: no deadlock, no leak.

Both paths lock a task and its reservations; they must take the locks in one order (task first)
or PostgreSQL breaks the cycle by failing one of them (a 500 here).
"""

import asyncio
import json

from services.router.app import SERVICE as ROUTER
from shared.runtime import free_port
from tests.router.conftest import Router
from tests.router.engine_checks import capacity_leaks, router_connection
from tests.support.waiting import eventually

ROOT = "/taskrouter/v1/Workspaces"
ROUNDS = 4
TASKS_PER_ROUND = 25


async def test_cancel_racing_accept_never_deadlocks(router: Router, launch, settings) -> None:  # type: ignore[no-untyped-def]
    second = await launch([ROUTER], port=free_port())
    conn = await router_connection(settings)
    async with router.parley.client() as a, second.client() as b:
        ws = (await a.post(ROOT, data={"FriendlyName": "Race"})).json()["sid"]
        acts = {x["friendly_name"]: x["sid"] for x in (await a.get(f"{ROOT}/{ws}/Activities")).json()["activities"]}
        queue = (await a.post(f"{ROOT}/{ws}/TaskQueues", data={"FriendlyName": "All"})).json()["sid"]
        flow = (await a.post(f"{ROOT}/{ws}/Workflows", data={"FriendlyName": "F", "Configuration": json.dumps(
            {"task_routing": {"default_filter": {"queue": queue}}})})).json()["sid"]
        for n in range(TASKS_PER_ROUND):
            await a.post(f"{ROOT}/{ws}/Workers", data={"FriendlyName": f"w{n}", "ActivitySid": acts["Available"]})
        outcomes: list[tuple[int, int]] = []
        try:
            for _ in range(ROUNDS):
                created = [(await a.post(f"{ROOT}/{ws}/Tasks", data={
                    "WorkflowSid": flow, "TaskChannel": "default"})).json()["sid"] for _ in range(TASKS_PER_ROUND)]
                offers = await eventually(lambda created=created: conn.fetch(
                    "SELECT sid, task_sid FROM reservations WHERE task_sid = ANY($1::text[]) "
                    "AND reservation_status = 'pending'", created),
                    until=lambda rows: len(rows) == TASKS_PER_ROUND, timeout=30, what="every task offered")

                async def race(task_sid: str, reservation_sid: str) -> tuple[int, int]:
                    cancel, accept = await asyncio.gather(
                        a.post(f"{ROOT}/{ws}/Tasks/{task_sid}", data={"AssignmentStatus": "canceled"}),
                        b.post(f"{ROOT}/{ws}/Tasks/{task_sid}/Reservations/{reservation_sid}",
                               data={"ReservationStatus": "accepted"}))
                    return cancel.status_code, accept.status_code

                outcomes += await asyncio.gather(*(race(row["task_sid"], row["sid"]) for row in offers))
                # Free the workers of the tasks that got assigned, for the next round.
                for sid in await conn.fetch("SELECT sid FROM tasks WHERE sid = ANY($1::text[]) "
                                            "AND assignment_status = 'assigned'", created):
                    await a.post(f"{ROOT}/{ws}/Tasks/{sid['sid']}", data={"AssignmentStatus": "completed"})
            # Exactly one of the two wins each race; the loser gets Twilio's 400, never a 500.
            assert all(pair in ((200, 400), (400, 200), (200, 200)) for pair in outcomes), outcomes
            statuses = await conn.fetch(
                "SELECT t.assignment_status AS task, r.reservation_status AS offer FROM tasks t "
                "JOIN reservations r ON r.task_sid = t.sid WHERE t.workspace_sid = $1", ws)
            assert {(row["task"], row["offer"]) for row in statuses} <= {("canceled", "canceled"),
                                                                        ("completed", "completed")}
            assert await capacity_leaks(conn, ws) == []
        finally:
            await conn.close()
