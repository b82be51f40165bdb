"""`/taskrouter/v1/Workspaces/{WorkspaceSid}/Workers`, their Channels and their Reservations."""

import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from fastapi import APIRouter, Request, Response

from services.router import render
from services.router.api.deps import ROOT, FormData, base_of, caller, found_or_404, listing, page_of, workspace_or_404
from services.router.api.reservation_updates import apply_reservation_update
from services.router.domain.expressions import ExpressionError, parse
from services.router.domain.models import Activity, Worker, Workspace, attributes_of
from services.router.domain.routing import queue_admits
from services.router.handlers import workers as handle
from services.router.handlers.workers import worker_event
from services.router.store import activities, reservations, workers
from services.router.store.base import Keyset
from services.router.store.locks import lock_tasks_of_worker
from shared.errors import TwilioError, invalid_parameter
from shared.forms import Form
from shared.runtime import ServiceContext

RESERVATION_STATUSES = ["pending", "accepted", "rejected", "timeout", "canceled", "rescinded", "wrapping", "completed"]


def attributes_param(form: Form) -> str | None:
    value = form.str("Attributes")
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise invalid_parameter("Attributes must be a valid JSON object") from error
    if not isinstance(parsed, dict):
        raise invalid_parameter("Attributes must be a valid JSON object")
    return value


def expression_param(form: Form, name: str) -> str | None:
    value = form.str(name)
    if value is None:
        return None
    try:
        parse(value)
    except ExpressionError as error:
        raise invalid_parameter(f"Invalid {name}: {error.message} at position {error.position}") from error
    return value


async def matching_page(fetch: Callable[[Keyset], Awaitable[list[Any]]], keyset: Keyset,
                        keep: Callable[[Any], bool]) -> list[Any]:
    """Fill a page with rows an expression admits, reading further keyset pages as needed."""
    found: list[Any] = []
    after = keyset.after
    while len(found) < keyset.limit:
        rows = await fetch(Keyset(after=after, before=None, limit=500))
        found += [row for row in rows if keep(row)]
        if len(rows) < 500:
            break
        after = [rows[-1].date_created.isoformat(), rows[-1].sid]
    return found[: keyset.limit]


def workers_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=ROOT + "/{workspace_sid}/Workers")
    Caller = caller(context)
    pool = context.pool

    async def worker_or_404(workspace_sid: str, sid: str) -> Worker:
        return found_or_404(await workers.get_worker(pool, workspace_sid=workspace_sid, sid=sid),  # type: ignore[no-any-return]
                            f"Worker {sid}")

    async def activity_param(workspace: Workspace, form: Form) -> Activity | None:
        sid = form.str("ActivitySid")
        if not sid:
            return None
        found = await activities.get_activity(pool, workspace_sid=workspace.sid, sid=sid)
        if found is None:
            raise invalid_parameter(f"ActivitySid {sid} is not an Activity of this Workspace")
        return found

    @router.post("", status_code=201)
    async def create(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        name = form.required("FriendlyName", max_length=255)
        attributes = attributes_param(form) or "{}"
        activity = await activity_param(workspace, form)
        if activity is None:
            assert workspace.default_activity_sid is not None
            activity = await activities.get_activity(pool, workspace_sid=workspace.sid,
                                                     sid=workspace.default_activity_sid)
            assert activity is not None
        base = base_of(context, request)
        try:
            async with pool.acquire() as conn, conn.transaction():
                worker = await handle.create_worker(conn, workspace, friendly_name=name, attributes=attributes,
                                                    activity=activity, base=base)
        except asyncpg.UniqueViolationError as error:
            raise TwilioError(409, 20001, f"Worker with FriendlyName {name} already exists") from error
        return render.worker(worker, base)

    @router.get("")
    async def list_(request: Request, workspace_sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        page, keyset = page_of(form)
        filters = {"activity_sid": form.str("ActivitySid"), "activity_name": form.str("ActivityName"),
                   "available": form.bool("Available"), "friendly_name": form.str("FriendlyName"),
                   "task_queue_sid": form.str("TaskQueueSid"), "task_queue_name": form.str("TaskQueueName")}
        expression = expression_param(form, "TargetWorkersExpression")

        async def fetch(ks: Keyset) -> list[Worker]:
            return await workers.list_workers(pool, workspace_sid=workspace.sid, keyset=ks, **filters)

        if expression is None:
            rows = await fetch(keyset)
        else:
            parsed = parse(expression)
            rows = await matching_page(fetch, keyset, lambda w: queue_admits(parsed, attributes_of(w.attributes)))
        base = base_of(context, request)
        # An agent's token lists its colleagues as a roster: names and availability, not their attributes.
        draw = render.colleague if getattr(request.state, "roster_only", False) else render.worker
        names = (("ActivitySid", "activity_sid"), ("ActivityName", "activity_name"), ("FriendlyName", "friendly_name"),
                 ("TaskQueueSid", "task_queue_sid"), ("TaskQueueName", "task_queue_name"))
        shown = [(param, filters[key]) for param, key in names] + [("TargetWorkersExpression", expression)]
        if filters["available"] is not None:
            shown.append(("Available", str(filters["available"]).lower()))
        return listing(key="workers", rows=rows, page=page, url=f"{base}{ROOT}/{workspace.sid}/Workers",
                       draw=lambda row: draw(row, base), filters=shown)  # type: ignore[arg-type]

    @router.get("/{sid}")
    async def fetch(request: Request, workspace_sid: str, sid: str, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        return render.worker(await worker_or_404(workspace.sid, sid), base_of(context, request))

    @router.post("/{sid}")
    async def update(request: Request, workspace_sid: str, sid: str, form: FormData, account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        await worker_or_404(workspace.sid, sid)
        attributes = attributes_param(form)
        activity = await activity_param(workspace, form)
        name = form.required("FriendlyName", max_length=255) if "FriendlyName" in form else None
        reject_pending = form.bool("RejectPendingReservations")
        base = base_of(context, request)
        try:
            async with pool.acquire() as conn, conn.transaction():
                if reject_pending:
                    await lock_tasks_of_worker(conn, worker_sid=sid, statuses=["pending"])  # tasks before the worker
                worker = await workers.get_worker(conn, workspace_sid=workspace.sid, sid=sid, for_update=True)
                assert worker is not None
                if reject_pending and activity is not None and not activity.available:
                    from services.router.handlers.reservations import reject

                    for pending in await reservations.reservations_of_worker(conn, worker_sid=sid, statuses=["pending"]):
                        await reject(conn, workspace, pending, activity=None, base=base)
                worker = await handle.update_worker(conn, workspace, worker, friendly_name=name, attributes=attributes,
                                                    activity=activity, base=base)
        except asyncpg.UniqueViolationError as error:
            raise TwilioError(409, 20001, f"Worker with FriendlyName {name} already exists") from error
        return render.worker(worker, base)

    @router.delete("/{sid}", status_code=204)
    async def delete(request: Request, workspace_sid: str, sid: str, account: Caller) -> Response:
        workspace = await workspace_or_404(context, account, workspace_sid)
        worker = await worker_or_404(workspace.sid, sid)
        async with pool.acquire() as conn, conn.transaction():
            live = await reservations.reservations_of_worker(conn, worker_sid=sid,
                                                             statuses=["pending", "accepted", "wrapping"])
            if live:
                raise TwilioError(400, 20001, f"Worker {sid} has active reservations and cannot be deleted")
            await worker_event(conn, workspace, worker, "worker.deleted", f"Worker {worker.friendly_name} deleted",
                               base_of(context, request))
            await workers.delete_worker(conn, sid=sid)
        return Response(status_code=204)

    # ------------------------------------------------------------------------------------- channels

    @router.get("/{sid}/Channels")
    async def list_channels(request: Request, workspace_sid: str, sid: str, form: FormData,
                            account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        worker = await worker_or_404(workspace.sid, sid)
        page, keyset = page_of(form)
        rows = await workers.list_worker_channels(pool, worker_sid=worker.sid, keyset=keyset)
        base = base_of(context, request)
        return listing(key="channels", rows=rows, page=page, url=f"{base}{ROOT}/{workspace.sid}/Workers/{sid}/Channels",
                       draw=lambda row: render.worker_channel(row, base))

    @router.get("/{sid}/Channels/{channel}")
    async def fetch_channel(request: Request, workspace_sid: str, sid: str, channel: str,
                            account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        worker = await worker_or_404(workspace.sid, sid)
        found = await workers.get_worker_channel(pool, worker_sid=worker.sid, sid_or_unique_name=channel)
        return render.worker_channel(found_or_404(found, f"WorkerChannel {channel}"), base_of(context, request))

    @router.post("/{sid}/Channels/{channel}")
    async def update_channel(request: Request, workspace_sid: str, sid: str, channel: str, form: FormData,
                             account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        worker = await worker_or_404(workspace.sid, sid)
        found = found_or_404(await workers.get_worker_channel(pool, worker_sid=worker.sid, sid_or_unique_name=channel),
                             f"WorkerChannel {channel}")
        capacity = form.int("Capacity", minimum=0, maximum=50)
        available = form.bool("Available")
        base = base_of(context, request)
        async with pool.acquire() as conn, conn.transaction():
            await handle.update_channel(conn, workspace, worker, found.sid, capacity=capacity, available=available,
                                        base=base)
            updated = await workers.get_worker_channel(conn, worker_sid=worker.sid, sid_or_unique_name=found.sid)
        return render.worker_channel(updated, base)  # type: ignore[arg-type]

    # --------------------------------------------------------------------------------- reservations

    @router.get("/{sid}/Reservations")
    async def list_reservations(request: Request, workspace_sid: str, sid: str, form: FormData,
                                account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        worker = await worker_or_404(workspace.sid, sid)
        page, keyset = page_of(form)
        status = form.choice("ReservationStatus", RESERVATION_STATUSES)
        rows = await reservations.list_reservations(pool, workspace_sid=workspace.sid, keyset=keyset,
                                                    worker_sid=worker.sid, status=status)
        base = base_of(context, request)
        return listing(key="reservations", rows=rows, page=page,
                       url=f"{base}{ROOT}/{workspace.sid}/Workers/{sid}/Reservations",
                       draw=lambda row: render.reservation(row, base, scope="worker"),
                       filters=[("ReservationStatus", status)] if status else None)

    @router.get("/{sid}/Reservations/{reservation_sid}")
    async def fetch_reservation(request: Request, workspace_sid: str, sid: str, reservation_sid: str,
                                account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        found = await reservations.get_reservation(pool, workspace_sid=workspace.sid, sid=reservation_sid, worker_sid=sid)
        return render.reservation(found_or_404(found, f"Reservation {reservation_sid}"), base_of(context, request),
                                  scope="worker")

    @router.post("/{sid}/Reservations/{reservation_sid}")
    async def update_reservation(request: Request, workspace_sid: str, sid: str, reservation_sid: str, form: FormData,
                                 account: Caller) -> dict[str, Any]:
        workspace = await workspace_or_404(context, account, workspace_sid)
        base = base_of(context, request)
        updated = await apply_reservation_update(pool, workspace, form, sid=reservation_sid, worker_sid=sid, base=base)
        return render.reservation(updated, base, scope="worker")

    return router
