"""Twilio-format access tokens: JWT, HS256, signed with an API key's secret (`iss` = SK…, `sub` = AC…).

Parley mints them for agents and web-chat guests and accepts any signed with one of the account's
API keys, so a business's existing token server (Twilio's helper libraries) works unchanged. The tokens
Parley mints carry a `parley` claim saying whom they were minted for (a guest, or an agent and a digest of
its record), so they can be refused once that no longer holds (shared/auth/revocation.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt

from shared.auth.accounts import AccountDirectory
from shared.auth.keys import ApiKey, managed_key
from shared.errors import TwilioError

ALGORITHM = "HS256"
HEADERS = {"cty": "twilio-fpa;v=1"}
DEFAULT_TTL_SECONDS = 3600
MAX_TTL_SECONDS = 24 * 3600  # Twilio's own limit
_LEEWAY_SECONDS = 5

KeyLookup = Callable[[str], Awaitable[ApiKey | None]]


class AccessTokenRefused(TwilioError):
    """401 with Twilio's codes: 20101 invalid access token, 20104 expired."""


def invalid_token(reason: str) -> AccessTokenRefused:
    return AccessTokenRefused(401, 20101, f"Invalid Access Token: {reason}")


def expired_token() -> AccessTokenRefused:
    return AccessTokenRefused(401, 20104, "Access Token expired or expiration date invalid")


@dataclass(frozen=True)
class Grants:
    identity: str
    chat_service_sid: str | None = None
    workspace_sid: str | None = None
    worker_sid: str | None = None
    role: str | None = None

    def to_payload(self) -> dict[str, Any]:
        grants: dict[str, Any] = {"identity": self.identity}
        chat: dict[str, Any] = {}
        if self.chat_service_sid:
            chat["service_sid"] = self.chat_service_sid
        grants["chat"] = chat
        if self.workspace_sid:
            task_router = {"workspace_sid": self.workspace_sid}
            if self.worker_sid:
                task_router["worker_sid"] = self.worker_sid
            if self.role:
                task_router["role"] = self.role
            grants["task_router"] = task_router
        return grants


GUEST = "guest"
AGENT = "agent"


@dataclass(frozen=True)
class Stamp:
    """Whom Parley minted a token for: a web-chat guest, or an agent as its record stood (`agent_record`)."""

    kind: str  # GUEST or AGENT
    agent_sid: str | None = None
    agent_record: str | None = None  # record_digest of the agent's own grants when the token was minted

    @classmethod
    def guest(cls) -> Stamp:
        return cls(kind=GUEST)

    @classmethod
    def agent(cls, agent_sid: str, own_grants: Grants) -> Stamp:
        return cls(kind=AGENT, agent_sid=agent_sid, agent_record=record_digest(own_grants))

    def to_claim(self) -> dict[str, str]:
        claim = {"kind": self.kind}
        if self.agent_sid and self.agent_record:
            claim.update(agent_sid=self.agent_sid, agent_record=self.agent_record)
        return claim


def record_digest(grants: Grants) -> str:
    """What an agent's token must still match: its identity, chat service, workspace, worker and role."""
    canonical = json.dumps(grants.to_payload(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class VerifiedToken:
    account_sid: str
    key_sid: str
    grants: Grants
    expires_at: int
    # Only a token signed with the account's Parley-managed key has one: a business's own key could sign any.
    stamp: Stamp | None = None

    @property
    def identity(self) -> str:
        return self.grants.identity

    @property
    def is_guest(self) -> bool:
        return self.stamp is not None and self.stamp.kind == GUEST


def mint(*, key: ApiKey, grants: Grants, ttl: int = DEFAULT_TTL_SECONDS, now: int | None = None,
         stamp: Stamp | None = None) -> str:
    issued = int(time.time()) if now is None else now
    payload: dict[str, Any] = {
        "jti": f"{key.sid}-{issued}",
        "iss": key.sid,
        "sub": key.account_sid,
        "nbf": issued,
        "exp": issued + ttl,
        "grants": grants.to_payload(),
    }
    if stamp is not None:
        payload["parley"] = stamp.to_claim()
    return jwt.encode(payload, key.secret, algorithm=ALGORITHM, headers=HEADERS)


async def verify(token: str, lookup: KeyLookup) -> VerifiedToken:
    """The token's account and grants, once its signature (by a key of that account) and dates hold.

    Raises AccessTokenRefused. Accepts tokens from `twilio.jwt.access_token.AccessToken` as they are.
    """
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise invalid_token("not a JWT") from error
    if header.get("alg") != ALGORITHM:
        raise invalid_token("the algorithm must be HS256")
    key_sid = unverified.get("iss")
    key = await lookup(key_sid) if isinstance(key_sid, str) and key_sid.startswith("SK") else None
    if key is None:
        raise invalid_token("unknown signing key")
    try:
        claims = jwt.decode(token, key.secret, algorithms=[ALGORITHM], leeway=_LEEWAY_SECONDS,
                            options={"require": ["exp", "iss", "sub"]})
    except jwt.ExpiredSignatureError as error:
        raise expired_token() from error
    except jwt.PyJWTError as error:
        raise invalid_token(str(error)) from error
    if claims.get("sub") != key.account_sid:
        raise invalid_token("the subject is not the signing key's account")
    if claims["exp"] - int(time.time()) > MAX_TTL_SECONDS + _LEEWAY_SECONDS:
        raise expired_token()
    raw = claims.get("grants")
    grants = raw if isinstance(raw, dict) else {}
    identity = grants.get("identity")
    if not isinstance(identity, str) or not identity:
        raise invalid_token("the token grants no identity")
    chat = _object(grants.get("chat"))
    task_router = _object(grants.get("task_router"))
    return VerifiedToken(
        account_sid=key.account_sid, key_sid=key.sid, expires_at=int(claims["exp"]),
        grants=Grants(identity=identity, chat_service_sid=_text(chat.get("service_sid")),
                      workspace_sid=_text(task_router.get("workspace_sid")),
                      worker_sid=_text(task_router.get("worker_sid")), role=_text(task_router.get("role"))),
        stamp=_stamp(_object(claims.get("parley"))) if key.managed else None,
    )


def _stamp(claim: dict[str, Any]) -> Stamp | None:
    kind = claim.get("kind")
    if kind == GUEST:
        return Stamp.guest()
    if kind == AGENT:
        return Stamp(kind=AGENT, agent_sid=_text(claim.get("agent_sid")), agent_record=_text(claim.get("agent_record")))
    return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class IssuedToken:
    token: str
    key_sid: str
    account_sid: str
    grants: Grants
    ttl: int
    expires_at: int


async def issue(directory: AccountDirectory, *, account_sid: str, grants: Grants,
                ttl: int = DEFAULT_TTL_SECONDS, stamp: Stamp | None = None) -> IssuedToken:
    """A token signed with the account's Parley-managed API key (created the first time)."""
    key = await managed_key(directory.pool, account_sid=account_sid, box=directory.box)
    issued = int(time.time())
    return IssuedToken(token=mint(key=key, grants=grants, ttl=ttl, now=issued, stamp=stamp), key_sid=key.sid,
                       account_sid=account_sid, grants=grants, ttl=ttl, expires_at=issued + ttl)
