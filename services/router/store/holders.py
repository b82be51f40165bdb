"""Facts about what one worker holds, asked by the access-token policy (domain/token_policy.py)."""

from __future__ import annotations

from services.router.domain.token_policy import Requirement
from services.router.store.base import Connection

HOLDING = ["accepted", "wrapping"]
OFFERED = ["pending", "accepted", "wrapping", "completed"]


async def worker_holds(conn: Connection, requirement: Requirement, *, account_sid: str, worker_sid: str,
                       reading: bool = False) -> bool:
    """Whether `requirement` holds for the worker; reading needs only an offer of the task, acting needs it held.

    Scoped by the token's account: a token can name any worker SID (a business mints its own), so a worker of
    another account must hold nothing here, or the 403-or-pass answer would tell which of its SIDs exist."""
    sid, parent = requirement.sid, requirement.parent_sid
    statuses = OFFERED if reading else HOLDING
    match requirement.kind:
        case "task_readable":
            # Offered the task, or holding another task of the same interaction channel (a fellow agent's).
            found = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM reservations WHERE task_sid = $1 AND worker_sid = $2 "
                "AND reservation_status = ANY($3::text[]) AND account_sid = $4) "
                "OR EXISTS (SELECT 1 FROM interaction_tasks asked JOIN interaction_tasks mine "
                "ON mine.channel_sid = asked.channel_sid JOIN reservations r ON r.task_sid = mine.task_sid "
                "WHERE asked.task_sid = $1 AND r.worker_sid = $2 AND r.reservation_status = ANY($5::text[]) "
                "AND r.account_sid = $4)",
                sid, worker_sid, OFFERED, account_sid, HOLDING)
        case "task_assigned":
            found = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM reservations WHERE task_sid = $1 AND worker_sid = $2 "
                "AND reservation_status = ANY($3::text[]) AND account_sid = $4)",
                sid, worker_sid, HOLDING, account_sid)
        case "reservation_of_worker":
            found = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM reservations WHERE sid = $1 AND worker_sid = $2 AND task_sid = $3 "
                "AND account_sid = $4)",
                sid, worker_sid, parent, account_sid)
        case "interaction_task_held":
            found = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM interaction_channels c JOIN interaction_tasks t ON t.channel_sid = c.sid "
                "JOIN reservations r ON r.task_sid = t.task_sid WHERE c.interaction_sid = $1 AND r.worker_sid = $2 "
                "AND r.reservation_status = ANY($3::text[]) AND c.account_sid = $4 AND r.account_sid = $4)",
                sid, worker_sid, statuses, account_sid)
        case "own_channel_participant":
            found = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM interaction_participants WHERE sid = $1 AND worker_sid = $2 "
                "AND channel_sid = $3 AND account_sid = $4)",
                sid, worker_sid, parent, account_sid)
        case _:
            found = False
    return bool(found)
