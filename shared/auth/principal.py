"""Who is calling: the account itself (Basic credentials: full power) or the holder of an access token.

A token holder acts as one identity with the grants its token carries (a chat service, a TaskRouter
workspace and worker, a role). Each service decides in its own policy module what a holder may do;
routes that do not opt in accept account credentials only (default deny).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.access_tokens import VerifiedToken
from shared.auth.accounts import Account

# Agents' desk roles (/parley/v1/Agents), as TaskRouter grants carry them; no role is a plain agent.
SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})


@dataclass(frozen=True)
class TokenHolder:
    account_sid: str
    identity: str
    chat_service_sid: str | None = None
    workspace_sid: str | None = None
    worker_sid: str | None = None
    role: str | None = None  # the task_router grant's role: worker (or none), supervisor, admin

    @classmethod
    def of(cls, token: VerifiedToken) -> TokenHolder:
        grants = token.grants
        return cls(account_sid=token.account_sid, identity=grants.identity, chat_service_sid=grants.chat_service_sid,
                   workspace_sid=grants.workspace_sid, worker_sid=grants.worker_sid, role=grants.role)

    @property
    def supervises(self) -> bool:
        return self.role in SUPERVISOR_ROLES


@dataclass(frozen=True)
class Principal:
    account: Account
    token: TokenHolder | None = None  # None: account credentials

    @property
    def sid(self) -> str:
        """The account acted for, whoever acts (lets a Principal stand where routes expect an Account)."""
        return self.account.sid
