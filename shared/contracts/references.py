"""Is this SID one of the account's? Asked of the service owning the resource when another one stores a reference.

A reference is refused where it is made (an agent naming a worker, a studio address naming a flow), not only
where it is used, and only the owner can answer: services never read each other's tables. The request is RPC
on parley.commands (the caller waits for the answer); the account asked about is the envelope's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CHECK_ROUTER_REFERENCES = "router.references.check"  # auth, conversations → router (RPC request)
CHECK_CONVERSATIONS_REFERENCES = "conversations.references.check"  # auth → conversations (RPC request)
REFERENCES_CHECKED = "references.checked"  # the reply of either

ReferenceKind = Literal["workspace", "worker", "flow", "chat_service"]
# Which request asks the owner of each kind.
OWNER_REQUEST: dict[ReferenceKind, str] = {
    "workspace": CHECK_ROUTER_REFERENCES, "worker": CHECK_ROUTER_REFERENCES, "flow": CHECK_ROUTER_REFERENCES,
    "chat_service": CHECK_CONVERSATIONS_REFERENCES,
}


class Reference(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: ReferenceKind
    sid: str
    workspace_sid: str | None = Field(None, description="A worker's workspace, when the reference names one.")


class CheckReferences(BaseModel):
    model_config = ConfigDict(extra="ignore")

    references: list[Reference]


class ReferencesChecked(BaseModel):
    model_config = ConfigDict(extra="ignore")

    missing: list[str] = Field(default_factory=list, description="The SIDs asked that name nothing of the account.")
