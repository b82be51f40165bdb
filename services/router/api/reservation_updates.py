"""The one reservation update both scopes share (`Tasks/{T}/Reservations/{R}` and `Workers/{W}/Reservations/{R}`)."""

from services.router.domain.lifecycle import ACCEPTING_INSTRUCTIONS
from services.router.domain.models import Reservation, Workspace
from services.router.handlers import reservations as handle
from services.router.store import activities, reservations
from services.router.store.base import Connection
from shared.errors import invalid_parameter, not_found
from shared.forms import Form

STATUSES = ["accepted", "rejected", "wrapping", "completed", "canceled", "rescinded", "timeout", "pending"]


async def apply_reservation_update(pool: Connection, workspace: Workspace, form: Form, *, sid: str,
                                   task_sid: str | None = None, worker_sid: str | None = None,
                                   base: str) -> Reservation:
    status = form.choice("ReservationStatus", STATUSES)
    instruction = (form.str("Instruction") or "").lower()
    if status is None and instruction in ACCEPTING_INSTRUCTIONS:
        status = "accepted"
    elif status is None and instruction == "reject":
        status = "rejected"
    activity_sid = form.str("WorkerActivitySid")
    activity = None
    if activity_sid:
        activity = await activities.get_activity(pool, workspace_sid=workspace.sid, sid=activity_sid)
        if activity is None:
            raise invalid_parameter(f"WorkerActivitySid {activity_sid} is not an Activity of this Workspace")
    async with pool.acquire() as conn, conn.transaction():  # type: ignore[union-attr]
        found = await reservations.get_reservation(conn, workspace_sid=workspace.sid, sid=sid, task_sid=task_sid,
                                                   worker_sid=worker_sid, for_update=True)
        if found is None:
            raise not_found(f"Reservation {sid}")
        if status == "accepted":
            found = await handle.accept(conn, workspace, found, base=base)
        elif status == "rejected":
            found = await handle.reject(conn, workspace, found, activity=activity, base=base)
        elif status == "wrapping":
            found = await handle.wrap_up(conn, workspace, found, base=base)
        elif status == "completed":
            found = await handle.complete(conn, workspace, found, base=base)
        elif status is not None:
            raise invalid_parameter(f"ReservationStatus {status} cannot be set through the API")
        elif activity is not None and found.reservation_status != "pending":
            from services.router.handlers.workers import move_worker_to

            await move_worker_to(conn, workspace, found.worker_sid, activity, base)
        return found
