"""The router's answer to "is this SID one of the account's?" for the workspaces, workers and flows other parts
store (agents and access tokens in shared/auth, studio addresses in conversations): RPC, see shared/references.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.router.flows import store as flows
from services.router.store import workers, workspaces
from services.router.store.base import Connection
from shared.broker.topology import ROUTER_REFERENCES
from shared.contracts.envelope import Envelope
from shared.contracts.references import REFERENCES_CHECKED, CheckReferences, Reference, ReferencesChecked
from shared.rpc import RpcServer
from shared.runtime import ServiceContext


async def is_of_account(conn: Connection, *, account_sid: str, reference: Reference) -> bool:
    match reference.kind:
        case "workspace":
            return await workspaces.get_workspace(conn, account_sid=account_sid, sid=reference.sid) is not None
        case "worker":
            return await workers.worker_of_account(conn, account_sid=account_sid, sid=reference.sid,
                                                   workspace_sid=reference.workspace_sid)
        case "flow":
            return await flows.get_flow(conn, account_sid=account_sid, sid=reference.sid) is not None
        case _:
            return False  # not the router's to vouch for


async def missing_references(conn: Connection, *, account_sid: str, references: Sequence[Reference]) -> list[str]:
    return [reference.sid for reference in references
            if not await is_of_account(conn, account_sid=account_sid, reference=reference)]


def references_server(context: ServiceContext) -> RpcServer:
    pool = context.pool

    async def answer(envelope: Envelope[Any]) -> ReferencesChecked:
        request: CheckReferences = envelope.payload
        async with pool.acquire() as conn:
            return ReferencesChecked(missing=await missing_references(conn, account_sid=envelope.account_sid,
                                                                       references=request.references))

    return RpcServer(context.broker, queue=ROUTER_REFERENCES, payload=CheckReferences, reply_type=REFERENCES_CHECKED,
                     handler=answer, prefetch=context.settings.prefetch)
