"""What a supervisor sees of a workspace: queues (waiting, longest wait, available/busy agents), agents
with their activity and current tasks, and the tasks waiting longest with the reason each waits; read from
the TaskRouter REST API with the supervisor's own token.

`summarize` is the pure part (TaskRouter resources in, the snapshot out); `fetch_snapshot` does the reading.
Reading through the public API, not the router's tables, keeps the services apart and the supervisor's
scope exactly what their token allows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

# Tasks an agent holds: reserved ones are still offers, counted as waiting like TaskRouter does.
HELD = ("assigned", "wrapping")
WAITING = ("pending", "reserved")
PAGE_SIZE = 1000
WAITING_SHOWN = 20  # the longest-waiting tasks listed one by one (each costs a read of its reservations)
DECLINED = ("rejected", "timeout")
BULK_QUEUES = 50  # Twilio's limit on TaskQueueSids per bulk statistics request


class SnapshotUnavailable(Exception):
    """TaskRouter refused or failed a read; the message says which and why."""


def _attributes(task: dict[str, Any]) -> dict[str, Any]:
    raw = task.get("attributes")
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _waiting(statistics: dict[str, Any]) -> int:
    by_status = statistics.get("tasks_by_status") or {}
    return int(by_status.get("pending", 0)) + int(by_status.get("reserved", 0))


def _customer(attributes: dict[str, Any]) -> Any:
    return attributes.get("customerName") or attributes.get("from") or attributes.get("customerAddress")


def waiting_reason(*, offered_to: list[str], queue_name: str, available_agents: int) -> str:
    """Why a task waits, in the supervisor's words: it is being offered, or nobody who may take it is free."""
    if offered_to:
        return f"Offered to {' and '.join(offered_to)}"
    if available_agents == 0:
        return f"No agent available in {queue_name}"
    return f"Every available agent in {queue_name} is at capacity"


def _waiting_rows(waiting_tasks: Sequence[tuple[dict[str, Any], list[dict[str, Any]]]], queue_rows: list[dict[str, Any]],
                  names: dict[str, str]) -> list[dict[str, Any]]:
    queues = {row["sid"]: row for row in queue_rows}
    rows = []
    for task, reservations in waiting_tasks:
        queue = queues.get(task.get("task_queue_sid") or "", {})
        queue_name = queue.get("friendly_name") or task.get("task_queue_friendly_name") or "its queue"
        offered_to = [names.get(r["worker_sid"], r["worker_sid"]) for r in reservations
                      if r.get("reservation_status") == "pending"]
        attributes = _attributes(task)
        rows.append({
            "sid": task["sid"], "assignment_status": task.get("assignment_status"),
            "task_queue_sid": task.get("task_queue_sid"), "queue_name": queue_name,
            "customer": _customer(attributes), "channel_type": attributes.get("channelType"),
            "age_seconds": int(task.get("age") or 0),
            "declined": sum(1 for r in reservations if r.get("reservation_status") in DECLINED),
            "reason": waiting_reason(offered_to=offered_to, queue_name=queue_name,
                                     available_agents=int(queue.get("available_agents") or 0)),
        })
    return rows


def summarize(*, workspace_sid: str, queues: list[dict[str, Any]], queue_statistics: dict[str, dict[str, Any]],
              workers: list[dict[str, Any]], held_tasks: list[dict[str, Any]], holders: dict[str, str],
              waiting_tasks: Sequence[tuple[dict[str, Any], list[dict[str, Any]]]] = ()) -> dict[str, Any]:
    """`holders` maps each held task's SID to the worker whose accepted reservation it is; `waiting_tasks` are
    the longest-waiting tasks, each with its reservations."""
    tasks_by_worker: dict[str, list[dict[str, Any]]] = {}
    busy_by_queue: dict[str, set[str]] = {}
    for task in held_tasks:
        worker_sid = holders.get(task["sid"])
        if worker_sid is None:
            continue
        attributes = _attributes(task)
        tasks_by_worker.setdefault(worker_sid, []).append({
            "sid": task["sid"], "assignment_status": task.get("assignment_status"),
            "task_queue_sid": task.get("task_queue_sid"),
            "conversation_sid": attributes.get("conversationSid") or attributes.get("conversation_sid"),
            "channel_type": attributes.get("channelType"),
            "customer": _customer(attributes),
        })
        if task.get("task_queue_sid"):
            busy_by_queue.setdefault(task["task_queue_sid"], set()).add(worker_sid)
    queue_rows = []
    for queue in queues:
        stats = queue_statistics.get(queue["sid"], {})
        queue_rows.append({
            "sid": queue["sid"], "friendly_name": queue.get("friendly_name"), "waiting": _waiting(stats),
            "longest_wait_seconds": int(stats.get("longest_relative_task_age_in_queue")
                                        or stats.get("longest_task_waiting_age") or 0),
            "available_agents": int(stats.get("total_available_workers") or 0),
            "busy_agents": len(busy_by_queue.get(queue["sid"], ())),
        })
    worker_rows = [{
        "sid": worker["sid"], "friendly_name": worker.get("friendly_name"),
        "activity_name": worker.get("activity_name"), "available": bool(worker.get("available")),
        "tasks": tasks_by_worker.get(worker["sid"], []),
    } for worker in workers]
    names = {worker["sid"]: worker.get("friendly_name") or worker["sid"] for worker in workers}
    return {"type": "supervisor.statistics", "workspace_sid": workspace_sid, "queues": queue_rows,
            "workers": worker_rows, "waiting_tasks": _waiting_rows(waiting_tasks, queue_rows, names)}


async def _queue_statistics(http: httpx.AsyncClient, root: str, headers: dict[str, str],
                            queue_sids: list[str]) -> dict[str, dict[str, Any]]:
    """The queues' real-time figures, BULK_QUEUES at a time (TaskRouter's bulk TaskQueues/RealTimeStatistics)."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(queue_sids), BULK_QUEUES):
        try:
            response = await http.post(f"{root}/TaskQueues/RealTimeStatistics", headers=headers,
                                       json={"TaskQueueSids": queue_sids[start:start + BULK_QUEUES]})
        except httpx.HTTPError as error:
            raise SnapshotUnavailable(f"TaskRouter could not be reached: {error}") from error
        if response.status_code != 200:
            raise SnapshotUnavailable(f"TaskRouter answered {response.status_code} for TaskQueues/RealTimeStatistics")
        found.update({row["task_queue_sid"]: row for row in response.json().get("task_queue_data", [])})
    return found


async def fetch_snapshot(http: httpx.AsyncClient, *, token: str, workspace_sid: str) -> dict[str, Any]:
    """Reads the workspace as the token's holder; raises SnapshotUnavailable when TaskRouter says no."""
    root = f"/taskrouter/v1/Workspaces/{workspace_sid}"
    headers = {"X-Twilio-Token": token}

    async def get(path: str, params: list[tuple[str, str | int | float | bool | None]] | None = None) -> dict[str, Any]:
        try:
            response = await http.get(root + path, params=params, headers=headers)
        except httpx.HTTPError as error:
            raise SnapshotUnavailable(f"TaskRouter could not be reached: {error}") from error
        if response.status_code != 200:
            try:
                message = response.json().get("message")
            except ValueError:
                message = None
            raise SnapshotUnavailable(message or f"TaskRouter answered {response.status_code} for {path}")
        return dict(response.json())

    size: list[tuple[str, str | int | float | bool | None]] = [("PageSize", PAGE_SIZE)]
    queues = (await get("/TaskQueues", size))["task_queues"]
    queue_statistics = await _queue_statistics(http, root, headers, [queue["sid"] for queue in queues])
    workers = (await get("/Workers", size))["workers"]
    held = (await get("/Tasks", size + [("AssignmentStatus", status) for status in HELD]))["tasks"]
    holders: dict[str, str] = {}
    for task in held:
        reservations = (await get(f"/Tasks/{task['sid']}/Reservations"))["reservations"]
        holder = next((r for r in reservations if r.get("reservation_status") in ("accepted", "wrapping")), None)
        if holder is not None:
            holders[task["sid"]] = holder["worker_sid"]
    waiting = (await get("/Tasks", size + [("AssignmentStatus", status) for status in WAITING]))["tasks"]
    longest = sorted(waiting, key=lambda task: -int(task.get("age") or 0))[:WAITING_SHOWN]
    waiting_tasks = [(task, (await get(f"/Tasks/{task['sid']}/Reservations"))["reservations"]) for task in longest]
    return summarize(workspace_sid=workspace_sid, queues=queues, queue_statistics=queue_statistics, workers=workers,
                     held_tasks=held, holders=holders, waiting_tasks=waiting_tasks)
