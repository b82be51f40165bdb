"""Waking the assignment engine of every router instance once a transaction that changed routing commits.

The payload names the workspace and, when the change is that narrow, the queues and workers it
touches (`WS… q:WQ… w:WK…`): the dispatcher then re-evaluates only those queues (a worker's are the
queues it is a member of). A bare workspace SID means every queue of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.router.store.base import Connection

CHANNEL_SQL = "'router_dispatch_' || md5(current_schema())"


async def wake_dispatch(conn: Connection, workspace_sid: str, *, queues: Iterable[str | None] = (),
                        workers: Iterable[str] = ()) -> None:
    """NOTIFY is delivered at commit, so a sleeping dispatcher never sees a change that rolled back."""
    scope = [f"q:{queue}" for queue in queues if queue] + [f"w:{worker}" for worker in workers]
    await conn.execute(f"SELECT pg_notify({CHANNEL_SQL}, $1)", " ".join([workspace_sid, *scope]))


async def dispatch_channel(conn: Connection) -> str:
    return str(await conn.fetchval(f"SELECT {CHANNEL_SQL}"))


@dataclass(frozen=True)
class Wake:
    workspace_sid: str
    queues: frozenset[str]
    workers: frozenset[str]

    @property
    def everything(self) -> bool:
        return not self.queues and not self.workers


def parse_wake(payload: str) -> Wake:
    workspace_sid, *scope = payload.split(" ")
    return Wake(workspace_sid, frozenset(item[2:] for item in scope if item.startswith("q:")),
                frozenset(item[2:] for item in scope if item.startswith("w:")))
