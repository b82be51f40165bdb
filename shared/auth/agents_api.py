"""`/parley/v1/Agents` and `/parley/v1/AccessTokens`: who signs in to the agent desktop, and the tokens they get."""

import re
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
from shared.errors import conflict, invalid_parameter, missing_parameter, not_found, unauthorized
from shared.forms import Form
from shared.http import iso
from shared.paging import read_page_request, render_page
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


def _password(form: Form) -> str | None:
    password = form.str("Password", max_length=passwords.MAX_LENGTH)
    if password is not None and len(password) < passwords.MIN_LENGTH:
        raise invalid_parameter(f"Parameter 'Password' must be at least {passwords.MIN_LENGTH} characters")
    return password


def agents_router(authenticate: Authenticator, hashing: Passwords) -> APIRouter:
    router = APIRouter(prefix=AGENTS_PATH)
    Caller = Annotated[Account, Depends(authenticate)]
    pool = authenticate.directory.pool

    @router.post("", status_code=201)
    async def create(request: Request, caller: Caller) -> dict[str, Any]:
        form = await Form.read(request)
        identity = form.required("Identity", max_length=256)
        email = form.str("Email", max_length=320)
        if email is not None and not _EMAIL.match(email):
            raise invalid_parameter(f"Parameter 'Email' is not an email address: '{email}'")
        password = _password(form)
        if (email is None) != (password is None):
            raise invalid_parameter("An agent signs in with Email and Password: give both, or neither")
        roles = form.list("Roles") or ["agent"]
        unknown = [role for role in roles if role not in agents.ROLES]
        if unknown:
            raise invalid_parameter(f"Parameter 'Roles' must be among {', '.join(agents.ROLES)}, not {unknown[0]}")
        fields = agents.AgentFields(
            identity=identity, friendly_name=form.str("FriendlyName", max_length=256), email=email,
            password_hash=await hashing.hash(password) if password else None,
            workspace_sid=_sid_param(form, "WorkspaceSid", "WS"), worker_sid=_sid_param(form, "WorkerSid", "WK"),
            chat_service_sid=_sid_param(form, "ChatServiceSid", "IS"), roles=tuple(dict.fromkeys(roles)),
        )
        if fields.worker_sid and not fields.workspace_sid:
            raise missing_parameter("WorkspaceSid")
        try:
            agent = await agents.insert_agent(pool, account_sid=caller.sid, fields=fields)
        except asyncpg.UniqueViolationError as error:
            raise conflict("An agent with this Identity or Email already exists", 90201) from error
        return render_agent(agent, _base(request))

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


def access_tokens_router(authenticate: Authenticator, hashing: Passwords) -> APIRouter:
    router = APIRouter(prefix=ACCESS_TOKENS_PATH)
    directory = authenticate.directory
    pool = directory.pool

    async def signed_in_agent(request: Request, email: str, password: str) -> agents.Agent:
        async def check() -> agents.Agent | None:
            agent, password_hash = await agents.get_agent_for_sign_in(pool, email=email)
            # The hash is checked even for an unknown email, so timing does not tell which emails exist.
            if not await hashing.matches(password_hash, password) or agent is None:
                return None
            account = await directory.get(agent.account_sid)
            return agent if account is not None and account.status == "active" else None

        async with hashing.turn():  # guesses are judged no faster than they are hashed: shared/auth/throttle.py
            agent = await authenticate.throttle.attempt(request, scope=SIGN_IN, credential=email, check=check)
        if agent is None:
            raise unauthorized()
        return agent

    @router.post("", status_code=201)
    async def create(request: Request) -> dict[str, Any]:
        """An agent's `Email` + `Password`, account credentials (Basic) with an `Identity`, or a still valid
        access token of an agent (X-Twilio-Token or Bearer), which gets a fresh one for the same agent."""
        form = await Form.read(request)
        email = form.str("Email")
        by_account = False  # only the account may name other grants than the agent's own
        if email is not None:
            agent: agents.Agent | None = await signed_in_agent(request, email, form.str("Password") or "")
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
