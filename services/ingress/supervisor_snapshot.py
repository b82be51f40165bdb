"""What a supervisor sees of a workspace: queues (waiting, longest wait, available/busy agents) and agents
with their activity and current tasks, read from the TaskRouter REST API with the supervisor's own token.

`summarize` is the pure part (TaskRouter resources in, the snapshot out); `fetch_snapshot` does the reading.
Reading through the public API, not the router's tables, keeps the services apart and the supervisor's
scope exactly what their token allows.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

# Tasks an agent holds: reserved ones are still offers, counted as waiting like TaskRouter does.
HELD = ("assigned", "wrapping")
PAGE_SIZE = 1000
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


def summarize(*, workspace_sid: str, queues: list[dict[str, Any]], queue_statistics: dict[str, dict[str, Any]],
              workers: list[dict[str, Any]], held_tasks: list[dict[str, Any]],
              holders: dict[str, str]) -> dict[str, Any]:
    """`holders` maps each held task's SID to the worker whose accepted reservation it is."""
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
            "customer": attributes.get("customerName") or attributes.get("from") or attributes.get("customerAddress"),
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
    return {"type": "supervisor.statistics", "workspace_sid": workspace_sid, "queues": queue_rows,
            "workers": worker_rows}


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
    return summarize(workspace_sid=workspace_sid, queues=queues, queue_statistics=queue_statistics, workers=workers,
                     held_tasks=held, holders=holders)
