"""`/taskrouter/v1/Workspaces/{WorkspaceSid}/Events`: newest first, filtered as TaskRouter filters them."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from services.router import render
from services.router.api.deps import ROOT, FormData, base_of, caller, found_or_404, listing, page_of, workspace_or_404
from services.router.api.statistics import minutes_before
from services.router.store import events
from services.router.store.base import Keyset
from shared.runtime import ServiceContext

FILTERS = (("EventType", "event_type"), ("ReservationSid", "reservation_sid"), ("TaskQueueSid", "task_queue_sid"),
           ("TaskSid", "task_sid"), ("WorkerSid", "worker_sid"), ("WorkflowSid", "workflow_sid"),
           ("TaskChannel", "task_channel"), ("Sid", "sid"))


def events_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=ROOT + "/{workspace_sid}/Events")
    Caller = caller(context)
    pool = context.pool

    @router.get("")
    async def list_(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        page, keyset = page_of(form)
        filters = {column: form.str(parameter) for parameter, column in FILTERS}
        start, end = form.datetime("StartDate"), form.datetime("EndDate")
        minutes = form.int("Minutes", minimum=1, maximum=None)
        if minutes and start is None:
            start = minutes_before(datetime.now(UTC), minutes)
        rows = await events.list_events(pool, workspace_sid=workspace.sid, filters=filters, start=start, end=end,
                                        keyset=Keyset(keyset.after, keyset.before, keyset.limit, descending=True))
        base = base_of(context, request)
        shown = [(parameter, filters[column]) for parameter, column in FILTERS]
        return listing(key="events", rows=rows, page=page, url=f"{base}{ROOT}/{workspace.sid}/Events",
                       draw=lambda row: render.event(row, base), filters=shown,  # type: ignore[arg-type]
                       key_of=lambda row: [row.event_date.isoformat(), row.sid])

    @router.get("/{sid}")
    async def fetch(request: Request, workspace_sid: str, sid: str, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        found = await events.get_event(pool, workspace_sid=workspace.sid, sid=sid)
        return render.event(found_or_404(found, f"Event {sid}"), base_of(context, request))

    return router
