"""`/parley/v1/Agents` and `/parley/v1/AccessTokens`: who signs in to the agent desktop, and the tokens they get."""

import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Request, Response

from shared import access_tokens
from shared.auth import agents, passwords
from shared.auth.accounts import Account, AccountDirectory
from shared.auth.deps import Authenticator, basic_credentials, presented_token
from shared.auth.passwords import Passwords
from shared.auth.throttle import SIGN_IN
from shared.contracts.references import Reference, ReferenceKind
from shared.errors import conflict, invalid_parameter, missing_parameter, not_found, unauthorized
from shared.forms import Form
from shared.http import iso
from shared.paging import read_page_request, render_page
from shared.references import ReferenceCheck
from shared.sids import is_sid

AGENTS_PATH = "/parley/v1/Agents"
ACCESS_TOKENS_PATH = "/parley/v1/AccessTokens"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def render_agent(agent: agents.Agent, base: str) -> dict[str, Any]:
    return {
        "sid": agent.sid, "account_sid": agent.account_sid, "identity": agent.identity,
        "friendly_name": agent.friendly_name, "email": agent.email, "workspace_sid": agent.workspace_sid,
        "worker_sid": agent.worker_sid, "chat_service_sid": agent.chat_service_sid, "roles": list(agent.roles),
        "date_created": iso(agent.date_created), "date_updated": iso(agent.date_updated),
        "url": f"{base}{AGENTS_PATH}/{agent.sid}",
    }


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _sid_param(form: Form, name: str, prefix: str) -> str | None:
    value = form.str(name)
    if value is not None and not is_sid(value, prefix):
        raise invalid_parameter(f"Parameter '{name}' must be a {prefix}… SID, not '{value}'")
    return value or None


def _ttl(form: Form) -> int:
    ttl = form.int("Ttl", minimum=60, maximum=access_tokens.MAX_TTL_SECONDS)
    return ttl if ttl is not None else access_tokens.DEFAULT_TTL_SECONDS


# The SIDs an agent names: form field, SID prefix, column, and what kind of reference it is to its owner.
_REFERENCE_FIELDS: tuple[tuple[str, str, str, ReferenceKind], ...] = (
    ("WorkspaceSid", "WS", "workspace_sid", "workspace"), ("WorkerSid", "WK", "worker_sid", "worker"),
    ("ChatServiceSid", "IS", "chat_service_sid", "chat_service"),
)


def _references(sids: Mapping[str, str | None], *, checked: Collection[str]) -> list[Reference]:
    """The references of the `checked` columns among `sids`; a worker must be of `sids`' workspace."""
    return [Reference(kind=kind, sid=sid, workspace_sid=sids.get("workspace_sid") if kind == "worker" else None)
            for _, _, column, kind in _REFERENCE_FIELDS if column in checked and (sid := sids.get(column))]


async def _agent_values(form: Form, hashing: Passwords) -> dict[str, Any]:
    """The agent columns a create or update form sets, each checked; a reference field sent empty clears it."""
    values: dict[str, Any] = {}
    if (identity := form.str("Identity", max_length=256)) is not None:
        if not identity:
            raise missing_parameter("Identity")
        values["identity"] = identity
    if (friendly_name := form.str("FriendlyName", max_length=256)) is not None:
        values["friendly_name"] = friendly_name
    if (email := form.str("Email", max_length=320)) is not None:
        if not _EMAIL.match(email):
            raise invalid_parameter(f"Parameter 'Email' is not an email address: '{email}'")
        values["email"] = email
    if (password := form.str("Password", max_length=passwords.MAX_LENGTH)) is not None:
        if len(password) < passwords.MIN_LENGTH:
            raise invalid_parameter(f"Parameter 'Password' must be at least {passwords.MIN_LENGTH} characters")
        values["password_hash"] = await hashing.hash(password)
    if (roles := form.list("Roles")) is not None:
        unknown = [role for role in roles if role not in agents.ROLES]
        if unknown or not roles:
            raise invalid_parameter(f"Parameter 'Roles' must be among {', '.join(agents.ROLES)}, not "
                                    f"{unknown[0] if unknown else 'nothing'}")
        values["roles"] = list(dict.fromkeys(roles))
    for name, prefix, column, _ in _REFERENCE_FIELDS:
        if name in form:
            values[column] = _sid_param(form, name, prefix)
    return values


_SIGN_IN_PAIR = "An agent signs in with Email and Password: give both, or neither"


def agents_router(authenticate: Authenticator, hashing: Passwords, references: ReferenceCheck) -> APIRouter:
    """Agents of the caller's account; the workspace, worker and chat service they name must be its own (404)."""
    router = APIRouter(prefix=AGENTS_PATH)
    Caller = Annotated[Account, Depends(authenticate)]
    pool = authenticate.directory.pool

    async def require_own(account_sid: str, values: dict[str, Any]) -> None:
        if values.get("worker_sid") and not values.get("workspace_sid"):
            raise missing_parameter("WorkspaceSid")
        await references.require(account_sid=account_sid, references=_references(values, checked=values))

    @router.post("", status_code=201)
    async def create(request: Request, caller: Caller) -> dict[str, Any]:
        form = await Form.read(request)
        form.required("Identity", max_length=256)
        values = await _agent_values(form, hashing)
        if ("email" in values) != ("password_hash" in values):
            raise invalid_parameter(_SIGN_IN_PAIR)
        await require_own(caller.sid, values)
        fields = agents.AgentFields(
            identity=values["identity"], friendly_name=values.get("friendly_name"), email=values.get("email"),
            password_hash=values.get("password_hash"), workspace_sid=values.get("workspace_sid"),
            worker_sid=values.get("worker_sid"), chat_service_sid=values.get("chat_service_sid"),
            roles=tuple(values.get("roles") or ["agent"]),
        )
        try:
            agent = await agents.insert_agent(pool, account_sid=caller.sid, fields=fields)
        except asyncpg.UniqueViolationError as error:
            raise conflict("An agent with this Identity or Email already exists", 90201) from error
        return render_agent(agent, _base(request))

    @router.post("/{sid}")
    async def update(request: Request, sid: str, caller: Caller) -> dict[str, Any]:
        form = await Form.read(request)
        values = await _agent_values(form, hashing)
        found = await agents.get_agent(pool, account_sid=caller.sid, sid=sid)
        if found is None:
            raise not_found(f"Agent {sid}")
        if any(column in values for _, _, column, _ in _REFERENCE_FIELDS):
            # Checked as they will be together: a worker must belong to the workspace the agent ends up with.
            kept = {column: getattr(found, column) for _, _, column, _ in _REFERENCE_FIELDS}
            await require_own(caller.sid, kept | values)
        try:
            updated = await agents.update_agent(pool, account_sid=caller.sid, sid=sid, values=values) \
                if values else found
        except asyncpg.UniqueViolationError as error:
            raise conflict("An agent with this Identity or Email already exists", 90201) from error
        except asyncpg.CheckViolationError as error:
            raise invalid_parameter(_SIGN_IN_PAIR) from error
        if updated is None:
            raise not_found(f"Agent {sid}")
        authenticate.revocations.forget_agent(sid)  # a changed record refuses old tokens here at once
        return render_agent(updated, _base(request))

    @router.get("")
    async def list_(request: Request, caller: Caller) -> dict[str, Any]:
        page = read_page_request(await Form.read(request))
        rows = await agents.list_agents(pool, account_sid=caller.sid, after_sid=page.after, limit=page.size + 1)
        items = rows[: page.size]
        base = _base(request)
        return render_page(key="agents", items=[render_agent(agent, base) for agent in items],
                           keys=[agent.sid for agent in items], request=page, has_more=len(rows) > page.size,
                           url=f"{base}{AGENTS_PATH}")

    @router.get("/{sid}")
    async def fetch(request: Request, sid: str, caller: Caller) -> dict[str, Any]:
        agent = await agents.get_agent(pool, account_sid=caller.sid, sid=sid)
        if agent is None:
            raise not_found(f"Agent {sid}")
        return render_agent(agent, _base(request))

    @router.delete("/{sid}", status_code=204)
    async def delete(sid: str, caller: Caller) -> Response:
        if not await agents.delete_agent(pool, account_sid=caller.sid, sid=sid):
            raise not_found(f"Agent {sid}")
        authenticate.revocations.forget_agent(sid)  # its tokens are refused here at once, elsewhere within the cache TTL
        return Response(status_code=204)

    return router


def access_tokens_router(authenticate: Authenticator, hashing: Passwords, references: ReferenceCheck) -> APIRouter:
    router = APIRouter(prefix=ACCESS_TOKENS_PATH)
    directory = authenticate.directory
    pool = directory.pool

    async def signed_in_agent(request: Request, account_sid: str, email: str, password: str) -> agents.Agent:
        async def check() -> agents.Agent | None:
            agent, password_hash = await agents.get_agent_for_sign_in(pool, account_sid=account_sid, email=email)
            # The hash is checked even for an unknown account or email, so neither the answer nor its timing
            # tells which emails exist, in this account or any other.
            if not await hashing.matches(password_hash, password) or agent is None:
                return None
            account = await directory.get(agent.account_sid)
            return agent if account is not None and account.status == "active" else None

        async with hashing.turn():  # guesses are judged no faster than they are hashed: shared/auth/throttle.py
            agent = await authenticate.throttle.attempt(request, scope=SIGN_IN, credential=f"{account_sid}/{email}",
                                                        check=check)
        if agent is None:
            raise unauthorized()
        return agent

    @router.post("", status_code=201)
    async def create(request: Request) -> dict[str, Any]:
        """An agent's `AccountSid` + `Email` + `Password`, account credentials (Basic) with an `Identity`, or a
        still valid access token of an agent (X-Twilio-Token or Bearer), which gets a fresh one for the same agent."""
        form = await Form.read(request)
        email = form.str("Email")
        by_account = False  # only the account may name other grants than the agent's own
        if email is not None:
            # Emails are unique per account only: the account is part of the agent's sign-in name.
            account_sid = _sid_param(form, "AccountSid", "AC") or ""
            if not account_sid:
                raise invalid_parameter("Missing required parameter AccountSid in the post body: an agent signs in "
                                        "with the AccountSid of its account, its Email and its Password")
            agent: agents.Agent | None = await signed_in_agent(request, account_sid, email, form.str("Password") or "")
            assert agent is not None
            account_sid, identity = agent.account_sid, agent.identity
        elif basic_credentials(request) is None and presented_token(request) is not None:
            holder = (await authenticate.principal(request)).token
            assert holder is not None
            agent = await agents.get_agent_by_identity(pool, account_sid=holder.account_sid, identity=holder.identity)
            if agent is None:  # only agents refresh here; guests have /ingress/webchat/tokens/refresh
                raise unauthorized()
            account_sid, identity = agent.account_sid, agent.identity
        else:
            account = await authenticate(request)
            identity = form.required("Identity", max_length=256)
            account_sid = account.sid
            agent = await agents.get_agent_by_identity(pool, account_sid=account_sid, identity=identity)
            by_account = True

        def grant(name: str, prefix: str, own: str | None) -> str | None:
            return (_sid_param(form, name, prefix) if by_account else None) or own

        grants = access_tokens.Grants(
            identity=identity,
            chat_service_sid=grant("ChatServiceSid", "IS", agent.chat_service_sid if agent else None),
            workspace_sid=grant("WorkspaceSid", "WS", agent.workspace_sid if agent else None),
            worker_sid=grant("WorkerSid", "WK", agent.worker_sid if agent else None),
            role=_task_router_role(agent),
        )
        if by_account:  # what the account names must be its own (the agent's own were checked when it was saved)
            named = [column for name, _, column, _ in _REFERENCE_FIELDS if form.str(name)]
            sids = {column: getattr(grants, column) for _, _, column, _ in _REFERENCE_FIELDS}
            await references.require(account_sid=account_sid, references=_references(sids, checked=named))
        return await issue_token(directory, account_sid=account_sid, grants=grants, ttl=_ttl(form), agent=agent)

    return router


def _task_router_role(agent: agents.Agent | None) -> str | None:
    return agents.task_router_role(agent) if agent is not None else None


async def issue_token(directory: AccountDirectory, *, account_sid: str, grants: access_tokens.Grants, ttl: int,
                      agent: agents.Agent | None = None) -> dict[str, Any]:
    """A token signed with the account's Parley-managed API key, as the AccessTokens resource renders it.

    An agent's token is stamped with its record, so it is refused once the agent is deleted or changed."""
    stamp = access_tokens.Stamp.agent(agent.sid, agents.own_grants(agent)) if agent is not None else None
    issued = await access_tokens.issue(directory, account_sid=account_sid, grants=grants, ttl=ttl, stamp=stamp)
    return render_token(issued, agent_sid=agent.sid if agent is not None else None)


def render_token(issued: access_tokens.IssuedToken, *, agent_sid: str | None = None) -> dict[str, Any]:
    return {"token": issued.token, "identity": issued.grants.identity, "account_sid": issued.account_sid,
            "agent_sid": agent_sid, "api_key_sid": issued.key_sid, "ttl": issued.ttl,
            "date_expires": datetime.fromtimestamp(issued.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
