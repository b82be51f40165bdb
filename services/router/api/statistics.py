"""Statistics of workspaces, task queues, workers and workflows: real-time and cumulative, as TaskRouter reports them.

Cumulative figures count the event log over the window (`StartDate`/`EndDate`, or `Minutes`, default 15 minutes).
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request

from services.router.api.deps import ROOT, FormData, base_of, caller, found_or_404, listing, page_of, workspace_or_404
from services.router.domain.models import Workspace
from services.router.render import age_seconds
from services.router.store import events, statistics, task_queues, workers, workflows
from services.router.store.base import Connection
from shared.forms import EARLIEST, Form, read_json_body
from shared.http import iso
from shared.runtime import ServiceContext

RESERVATION_COUNTS = ("created", "accepted", "rejected", "timeout", "canceled", "rescinded")


def window(form: Form) -> tuple[datetime, datetime]:
    end = form.datetime("EndDate") or datetime.now(UTC)
    minutes = form.int("Minutes", minimum=1, maximum=None)
    start = form.datetime("StartDate") or minutes_before(end, minutes or 15)
    return start, end


def minutes_before(end: datetime, minutes: int) -> datetime:
    """The start of a `Minutes` window; one reaching back before the earliest date Parley takes starts there."""
    try:
        return max(end - timedelta(minutes=minutes), EARLIEST)
    except OverflowError:
        return EARLIEST


def _durations(row: Any) -> dict[str, int]:
    def whole(value: Any) -> int:
        return int(value or 0)
    return {"avg": whole(row["avg"]), "min": whole(row["min"]), "max": whole(row["max"]), "total": whole(row["total"])}


async def cumulative(conn: Connection, workspace: Workspace, form: Form, *, column: str | None = None,
                     value: str | None = None) -> dict[str, Any]:
    start, end = window(form)
    channel = form.str("TaskChannel")
    counts = await events.count_events(conn, workspace_sid=workspace.sid, start=start, end=end, column=column,
                                       value=value, task_channel=channel)
    waits = await statistics.wait_durations(conn, workspace_sid=workspace.sid, start=start, end=end, column=column,
                                            value=value)
    result: dict[str, Any] = {
        "account_sid": workspace.account_sid, "workspace_sid": workspace.sid, "start_time": iso(start),
        "end_time": iso(end), "avg_task_acceptance_time": int(waits["accepted"]["avg"] or 0),
        **{f"reservations_{'timed_out' if name == 'timeout' else name}": counts.get(f"reservation.{name}", 0)
           for name in RESERVATION_COUNTS},
        "split_by_wait_time": None, "wait_duration_until_accepted": _durations(waits["accepted"]),
        "wait_duration_until_canceled": _durations(waits["canceled"]),
        "tasks_canceled": counts.get("task.canceled", 0), "tasks_completed": counts.get("task.completed", 0),
        "tasks_deleted": counts.get("task.deleted", 0), "tasks_moved": counts.get("task-queue.moved", 0),
        "tasks_created": counts.get("task.created", 0), "tasks_timed_out_in_workflow": counts.get("workflow.timeout", 0),
    }
    if column == "task_queue_sid":
        result["tasks_entered"] = counts.get("task-queue.entered", 0)
        result["wait_duration_in_queue_until_accepted"] = _durations(waits["accepted"])
    if column == "workflow_sid":
        result["tasks_entered"] = counts.get("workflow.entered", 0)
    return result


def _activity_statistics(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"sid": row["sid"], "friendly_name": row["friendly_name"], "workers": row["workers"]} for row in rows]


async def realtime(conn: Connection, workspace: Workspace, form: Form, *, task_queue_sid: str | None = None,
                   workflow_sid: str | None = None) -> dict[str, Any]:
    counts = await statistics.tasks_by_status(conn, workspace_sid=workspace.sid, task_queue_sid=task_queue_sid,
                                              workflow_sid=workflow_sid, task_channel=form.str("TaskChannel"))
    oldest = counts["oldest"]
    result: dict[str, Any] = {
        "account_sid": workspace.account_sid, "workspace_sid": workspace.sid,
        "longest_task_waiting_age": age_seconds(oldest["date_created"]) if oldest else 0,
        "longest_task_waiting_sid": oldest["sid"] if oldest else None,
        "tasks_by_priority": counts["by_priority"], "tasks_by_status": counts["by_status"], "total_tasks": counts["total"],
    }
    if workflow_sid is None:
        activity_rows = await statistics.workers_by_activity(conn, workspace_sid=workspace.sid,
                                                             task_queue_sid=task_queue_sid)
        result["activity_statistics"] = _activity_statistics(activity_rows)
        total = sum(row["workers"] for row in activity_rows)
        if task_queue_sid is None:
            result["total_workers"] = total
        else:
            result["total_eligible_workers"] = total
            result["total_available_workers"] = sum(row["workers"] for row in activity_rows if row["available"])
            entered = oldest["task_queue_entered_date"] if oldest else None
            result["longest_relative_task_age_in_queue"] = age_seconds(entered) if entered else 0
            result["longest_relative_task_sid_in_queue"] = oldest["sid"] if oldest else None
    return result


def statistics_router(context: ServiceContext) -> APIRouter:
    """Registered before the resource routers, so `Workers/Statistics` is not read as a worker SID."""
    router = APIRouter(prefix=ROOT + "/{workspace_sid}")
    Caller = caller(context)
    pool = context.pool

    def url(request: Request) -> str:
        return own_url(context, request)

    @router.get("/Statistics")
    async def workspace_statistics(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        async with pool.acquire() as conn:
            return {"account_sid": account.sid, "workspace_sid": workspace.sid, "url": url(request),
                    "realtime": await realtime(conn, workspace, form), "cumulative": await cumulative(conn, workspace, form)}

    @router.get("/RealTimeStatistics")
    async def workspace_realtime(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        async with pool.acquire() as conn:
            return {**await realtime(conn, workspace, form), "url": url(request)}

    @router.get("/CumulativeStatistics")
    async def workspace_cumulative(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        async with pool.acquire() as conn:
            return {**await cumulative(conn, workspace, form), "url": url(request)}

    # ---------------------------------------------------------------------------------- task queues

    async def queue_or_404(workspace: Workspace, sid: str) -> None:
        found_or_404(await task_queues.get_task_queue(pool, workspace_sid=workspace.sid, sid=sid), f"TaskQueue {sid}")

    @router.get("/TaskQueues/Statistics")
    async def queues_statistics(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        page, keyset = page_of(form)
        async with pool.acquire() as conn:
            rows = await task_queues.list_task_queues(conn, workspace_sid=workspace.sid, keyset=keyset,
                                                      friendly_name=form.str("FriendlyName"))
            drawn = {row.sid: {
                "account_sid": account.sid, "workspace_sid": workspace.sid, "task_queue_sid": row.sid,
                "realtime": {**await realtime(conn, workspace, form, task_queue_sid=row.sid), "task_queue_sid": row.sid},
                "cumulative": {**await cumulative(conn, workspace, form, column="task_queue_sid", value=row.sid),
                               "task_queue_sid": row.sid},
            } for row in rows[: page.size + 1]}
        return listing(key="task_queues_statistics", rows=rows, page=page, url=base_of(context, request) + request.url.path,
                       draw=lambda row: drawn[row.sid])

    @router.post("/TaskQueues/RealTimeStatistics")
    async def queues_bulk_realtime(request: Request, workspace_sid: str, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        json_body = request.headers.get("content-type", "").startswith("application/json")
        body = await read_json_body(request) if json_body else None
        named = body.get("TaskQueueSids") or body.get("task_queue_sids") or [] if isinstance(body, dict) else []
        wanted = [sid for sid in named if isinstance(sid, str)] if isinstance(named, list) else []
        async with pool.acquire() as conn:
            data = [{**await realtime(conn, workspace, Form([]), task_queue_sid=sid), "task_queue_sid": sid}
                    for sid in wanted if await task_queues.get_task_queue(conn, workspace_sid=workspace.sid, sid=sid)]
        return {"account_sid": account.sid, "workspace_sid": workspace.sid, "task_queue_data": data,
                "task_queue_response_count": len(data), "url": url(request)}

    add_scoped_statistics(router, context, segment="TaskQueues", key="task_queue_sid", exists=queue_or_404)

    # -------------------------------------------------------------------------------------- workers

    async def worker_realtime(conn: Connection, workspace: Workspace) -> dict[str, Any]:
        rows = await statistics.workers_by_activity(conn, workspace_sid=workspace.sid)
        return {"account_sid": workspace.account_sid, "workspace_sid": workspace.sid,
                "activity_statistics": _activity_statistics(rows), "total_workers": sum(r["workers"] for r in rows)}

    async def worker_cumulative(conn: Connection, workspace: Workspace, form: Form,
                                worker_sid: str | None = None) -> dict[str, Any]:
        full = await cumulative(conn, workspace, form, column="worker_sid" if worker_sid else None, value=worker_sid)
        activity_rows = await statistics.workers_by_activity(conn, workspace_sid=workspace.sid)
        keep = ("account_sid", "workspace_sid", "start_time", "end_time", "reservations_created",
                "reservations_accepted", "reservations_rejected", "reservations_timed_out", "reservations_canceled",
                "reservations_rescinded")
        start, end = window(form)
        spent = await statistics.activity_durations(conn, workspace_sid=workspace.sid, start=start, end=end,
                                                    worker_sid=worker_sid)
        none = {"avg": 0, "min": 0, "max": 0, "total": 0}
        return {**{key: full[key] for key in keep}, "activity_durations": [
            {"sid": row["sid"], "friendly_name": row["friendly_name"],
             **(_durations(spent[row["sid"]]) if row["sid"] in spent else none)} for row in activity_rows]}

    @router.get("/Workers/Statistics")
    async def workers_statistics(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        async with pool.acquire() as conn:
            return {"account_sid": account.sid, "workspace_sid": workspace.sid, "url": url(request),
                    "realtime": await worker_realtime(conn, workspace),
                    "cumulative": await worker_cumulative(conn, workspace, form)}

    @router.get("/Workers/RealTimeStatistics")
    async def workers_realtime(request: Request, workspace_sid: str, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        async with pool.acquire() as conn:
            return {**await worker_realtime(conn, workspace), "url": url(request)}

    @router.get("/Workers/CumulativeStatistics")
    async def workers_cumulative(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        async with pool.acquire() as conn:
            return {**await worker_cumulative(conn, workspace, form), "url": url(request)}

    @router.get("/Workers/{sid}/Statistics")
    async def worker_statistics(request: Request, workspace_sid: str, sid: str, form: FormData,
                                account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        found_or_404(await workers.get_worker(pool, workspace_sid=workspace.sid, sid=sid), f"Worker {sid}")
        async with pool.acquire() as conn:
            return {"account_sid": account.sid, "workspace_sid": workspace.sid, "worker_sid": sid, "url": url(request),
                    "cumulative": await worker_cumulative(conn, workspace, form, worker_sid=sid)}

    # ------------------------------------------------------------------------------------ workflows

    async def workflow_or_404(workspace: Workspace, sid: str) -> None:
        found_or_404(await workflows.get_workflow(pool, workspace_sid=workspace.sid, sid=sid), f"Workflow {sid}")

    add_scoped_statistics(router, context, segment="Workflows", key="workflow_sid", exists=workflow_or_404)

    return router


def own_url(context: ServiceContext, request: Request) -> str:
    return base_of(context, request) + request.url.path


def add_scoped_statistics(router: APIRouter, context: ServiceContext, *, segment: str, key: str,
                          exists: Callable[[Workspace, str], Awaitable[None]]) -> None:
    """Statistics, RealTimeStatistics and CumulativeStatistics of one task queue or workflow (`key` names it)."""
    Caller = caller(context)
    pool = context.pool

    def url(request: Request) -> str:
        return own_url(context, request)

    async def scoped(conn: Connection, workspace: Workspace, form: Form, sid: str) -> tuple[dict[str, Any], dict[str, Any]]:
        now = await realtime(conn, workspace, form, **{key: sid})
        so_far = await cumulative(conn, workspace, form, column=key, value=sid)
        return {**now, key: sid}, {**so_far, key: sid}

    @router.get(f"/{segment}/{{sid}}/Statistics")
    async def statistics_of(request: Request, workspace_sid: str, sid: str, form: FormData, account: Caller) -> dict[str, Any]:  # type: ignore[valid-type]
        workspace = await workspace_or_404(context, account, workspace_sid)
        await exists(workspace, sid)
        async with pool.acquire() as conn:
            now, so_far = await scoped(conn, workspace, form, sid)
        return {"account_sid": account.sid, "workspace_sid": workspace.sid, key: sid, "url": url(request),  # type: ignore[attr-defined]
                "realtime": now, "cumulative": so_far}

    @router.get(f"/{segment}/{{sid}}/RealTimeStatistics")
    async def realtime_of(request: Request, workspace_sid: str, sid: str, form: FormData, account: Caller) -> dict[str, Any]:  # type: ignore[valid-type]
        workspace = await workspace_or_404(context, account, workspace_sid)
        await exists(workspace, sid)
        async with pool.acquire() as conn:
            return {**await realtime(conn, workspace, form, **{key: sid}), key: sid, "url": url(request)}

    @router.get(f"/{segment}/{{sid}}/CumulativeStatistics")
    async def cumulative_of(request: Request, workspace_sid: str, sid: str, form: FormData, account: Caller) -> dict[str, Any]:  # type: ignore[valid-type]
        workspace = await workspace_or_404(context, account, workspace_sid)
        await exists(workspace, sid)
        async with pool.acquire() as conn:
            return {**await cumulative(conn, workspace, form, column=key, value=sid), key: sid, "url": url(request)}
