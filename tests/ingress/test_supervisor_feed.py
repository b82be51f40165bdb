"""Supervisors' live statistics on the realtime socket: a snapshot on connecting, fresh ones as the router's
events say the workspace changed, rate-limited per workspace; nothing of it for other agents."""

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from services.ingress.supervisor_snapshot import summarize
from shared.settings import Settings
from tests.conftest import StartParley
from tests.support.parley import RunningParley
from tests.support.realtime import ws_url
from tests.support.web_chat_center import WebChatCenter, set_activity, set_up_web_chat_center

INTERVAL = 0.5


@pytest.fixture
async def parley(launch: StartParley, settings: Settings) -> RunningParley:
    return await launch(settings=settings.model_copy(update={"supervisor_statistics_interval_seconds": INTERVAL}))


@pytest.fixture
async def center(parley: RunningParley) -> WebChatCenter:
    async with parley.client() as client:
        return await set_up_web_chat_center(client, agents=("alice", "bob"), supervisors=("sam",))


async def signed_in_socket(parley: RunningParley, center: WebChatCenter, name: str,
                           opened: list[ClientConnection]) -> ClientConnection:
    async with httpx.AsyncClient(base_url=parley.base_url) as browser:
        token = (await browser.post("/parley/v1/AccessTokens", data={
            "AccountSid": center.agents[name].account_sid, "Email": center.agents[name].email,
            "Password": center.agents[name].password})).json()["token"]
    ws = await connect(ws_url(parley, token=token))
    opened.append(ws)
    assert json.loads(await ws.recv())["type"] == "connected"
    return ws


async def snapshots(ws: ClientConnection, *, within: float) -> list[dict[str, Any]]:
    """Every statistics push that arrives within `within` seconds."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
        if message["type"] == "supervisor.statistics":
            found.append(message)
    return found


async def next_snapshot(ws: ClientConnection, until: Any = lambda snapshot: True, timeout: float = 10.0) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "supervisor.statistics" and until(message):
                return dict(message)

    return await asyncio.wait_for(read(), timeout)


def activity_of(snapshot: dict[str, Any], name: str) -> str:
    return next(w["activity_name"] for w in snapshot["workers"] if w["friendly_name"] == name)


async def test_a_supervisor_gets_a_snapshot_then_live_ones_rate_limited(
    parley: RunningParley, center: WebChatCenter, sockets: list[ClientConnection]
) -> None:
    ws = await signed_in_socket(parley, center, "sam", sockets)
    first = await next_snapshot(ws)
    assert first["workspace_sid"] == center.workspace_sid and "error" not in first
    assert [(q["friendly_name"], q["waiting"], q["available_agents"]) for q in first["queues"]] == [("Support", 0, 0)]
    assert {w["friendly_name"]: w["activity_name"] for w in first["workers"]} == {
        "Alice": "Offline", "Bob": "Offline", "Sam": "Offline"}

    async with parley.client() as account:
        await set_activity(account, center, "alice", "Available")
        live = await next_snapshot(ws, until=lambda s: activity_of(s, "Alice") == "Available")
        assert live["queues"][0]["available_agents"] == 1

        # A burst of changes: a few snapshots at most, each INTERVAL apart, the last one current.
        burst_started = time.monotonic()
        for _ in range(5):
            await set_activity(account, center, "bob", "Available")
            await set_activity(account, center, "bob", "Offline")
        await set_activity(account, center, "bob", "Available")
        pushed = await snapshots(ws, within=time.monotonic() - burst_started + 3 * INTERVAL)
    assert 1 <= len(pushed) <= (time.monotonic() - burst_started) / INTERVAL + 1, len(pushed)
    assert activity_of(pushed[-1], "Bob") == "Available"
    assert pushed[-1]["queues"][0]["available_agents"] == 2


async def test_an_agent_without_the_supervisor_role_gets_no_statistics(
    parley: RunningParley, center: WebChatCenter, sockets: list[ClientConnection]
) -> None:
    agent = await signed_in_socket(parley, center, "alice", sockets)
    supervisor = await signed_in_socket(parley, center, "sam", sockets)
    await next_snapshot(supervisor)
    async with parley.client() as account:
        await set_activity(account, center, "bob", "Available")
    await next_snapshot(supervisor, until=lambda s: activity_of(s, "Bob") == "Available")
    assert await snapshots(agent, within=2 * INTERVAL) == []


def test_the_summary_counts_waiting_tasks_and_the_agents_holding_them() -> None:
    queue = {"sid": "WQ1", "friendly_name": "Support"}
    stats = {"WQ1": {"tasks_by_status": {"pending": 2, "reserved": 1, "assigned": 2, "wrapping": 1},
                     "longest_relative_task_age_in_queue": 42, "total_available_workers": 3}}
    workers = [{"sid": f"WK{n}", "friendly_name": name, "activity_name": "Available", "available": True}
               for n, name in enumerate(("Alice", "Bob", "Cleo"))]
    held = [
        {"sid": "WT1", "assignment_status": "assigned", "task_queue_sid": "WQ1",
         "attributes": json.dumps({"conversationSid": "CH1", "channelType": "web", "customerName": "Ana"})},
        {"sid": "WT2", "assignment_status": "wrapping", "task_queue_sid": "WQ1", "attributes": "{}"},
        {"sid": "WT3", "assignment_status": "assigned", "task_queue_sid": "WQ1", "attributes": "not json"},
    ]
    summary = summarize(workspace_sid="WS1", queues=[queue], queue_statistics=stats, workers=workers,
                        held_tasks=held, holders={"WT1": "WK0", "WT2": "WK0", "WT3": "WK1"})
    assert summary["queues"] == [{"sid": "WQ1", "friendly_name": "Support", "waiting": 3, "longest_wait_seconds": 42,
                                  "available_agents": 3, "busy_agents": 2}]
    tasks = {w["friendly_name"]: [(t["sid"], t["conversation_sid"], t["customer"]) for t in w["tasks"]]
             for w in summary["workers"]}
    assert tasks == {"Alice": [("WT1", "CH1", "Ana"), ("WT2", None, None)], "Bob": [("WT3", None, None)], "Cleo": []}


def test_each_waiting_task_says_why_it_waits_and_how_often_it_was_declined() -> None:
    queues = [{"sid": "WQ1", "friendly_name": "Support"}, {"sid": "WQ2", "friendly_name": "Billing"}]
    stats = {"WQ1": {"total_available_workers": 0}, "WQ2": {"total_available_workers": 1}}
    workers = [{"sid": "WK1", "friendly_name": "Alice"}, {"sid": "WK2", "friendly_name": "Bob"}]

    def task(sid: str, queue: str, age: int, status: str = "pending") -> dict[str, object]:
        return {"sid": sid, "assignment_status": status, "task_queue_sid": queue, "age": age,
                "attributes": json.dumps({"customerName": f"Customer {sid}"})}

    waiting = [
        (task("WT1", "WQ1", 900), [{"worker_sid": "WK1", "reservation_status": "rejected"},
                                   {"worker_sid": "WK1", "reservation_status": "timeout"}]),
        (task("WT2", "WQ2", 60, "reserved"), [{"worker_sid": "WK2", "reservation_status": "pending"}]),
        (task("WT3", "WQ2", 5), []),
    ]
    summary = summarize(workspace_sid="WS1", queues=queues, queue_statistics=stats, workers=workers,
                        held_tasks=[], holders={}, waiting_tasks=waiting)
    rows = [(r["sid"], r["customer"], r["queue_name"], r["age_seconds"], r["declined"], r["reason"])
            for r in summary["waiting_tasks"]]
    assert rows == [
        ("WT1", "Customer WT1", "Support", 900, 2, "No agent available in Support"),
        ("WT2", "Customer WT2", "Billing", 60, 0, "Offered to Bob"),
        ("WT3", "Customer WT3", "Billing", 5, 0, "Every available agent in Billing is at capacity"),
    ]
