"""The conversations service's answer to "is this SID one of the account's?" for the Conversation Services that
agents and access tokens name (shared/auth): RPC, see shared/references.py."""

from __future__ import annotations

from typing import Any

from services.conversations import store
from shared.broker.topology import CONVERSATIONS_REFERENCES
from shared.contracts.envelope import Envelope
from shared.contracts.references import REFERENCES_CHECKED, CheckReferences, ReferencesChecked
from shared.rpc import RpcServer
from shared.runtime import ServiceContext


def references_server(context: ServiceContext) -> RpcServer:
    pool = context.pool

    async def answer(envelope: Envelope[Any]) -> ReferencesChecked:
        request: CheckReferences = envelope.payload
        missing = []
        async with pool.acquire() as conn:
            for reference in request.references:
                # Only Conversation Services are this service's to vouch for.
                if reference.kind != "chat_service" or not await store.service_exists(
                        conn, account_sid=envelope.account_sid, sid=reference.sid):
                    missing.append(reference.sid)
        return ReferencesChecked(missing=missing)

    return RpcServer(context.broker, queue=CONVERSATIONS_REFERENCES, payload=CheckReferences,
                     reply_type=REFERENCES_CHECKED, handler=answer, prefetch=context.settings.prefetch)
