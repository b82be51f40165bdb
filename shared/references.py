"""Refusing a reference to another account's resource where it is made: the owner of the SID is asked over RPC.

Another account's SID and a SID that names nothing get the same 404 (20404), so the answer tells nothing about
other tenants. When the owner does not answer in time, the reference is neither accepted nor refused: 503.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.broker.topology import COMMANDS
from shared.contracts.references import OWNER_REQUEST, CheckReferences, Reference, ReferencesChecked
from shared.errors import not_found, service_unavailable
from shared.rpc import RpcClient, RpcTimeout, RpcUnroutable

_NAMES = {"workspace": "Workspace", "worker": "Worker", "flow": "Flow", "chat_service": "Conversation Service"}


class ReferenceCheck:
    """One per process part that stores references (built by its composition root)."""

    def __init__(self, rpc: RpcClient, *, timeout: float) -> None:
        self._rpc = rpc
        self._timeout = timeout

    async def require(self, *, account_sid: str, references: Sequence[Reference]) -> None:
        """Raises 404 (20404) for the first reference that is not the account's; 503 if its owner is silent."""
        by_owner: dict[str, list[Reference]] = {}
        for reference in references:
            by_owner.setdefault(OWNER_REQUEST[reference.kind], []).append(reference)
        for request_type, asked in by_owner.items():
            try:
                answer = await self._rpc.call(COMMANDS, CheckReferences(references=asked), type_=request_type,
                                              account_sid=account_sid, reply=ReferencesChecked,
                                              timeout=self._timeout)
            except (RpcTimeout, RpcUnroutable) as error:
                raise service_unavailable(
                    f"The referenced resources could not be checked now; retry later ({error})") from error
            for reference in asked:
                if reference.sid in answer.missing:
                    raise not_found(f"{_NAMES[reference.kind]} {reference.sid}")
