"""Agents: the people who sign in to the agent desktop, with argon2-hashed passwords (shared/auth/passwords.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

import asyncpg

from shared.access_tokens import Grants
from shared.sids import new_sid

Connection: TypeAlias = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy | asyncpg.Pool

ROLES = ("agent", "supervisor", "admin")


@dataclass(frozen=True)
class Agent:
    sid: str
    account_sid: str
    identity: str
    friendly_name: str | None
    email: str | None
    workspace_sid: str | None
    worker_sid: str | None
    chat_service_sid: str | None
    roles: tuple[str, ...]
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True)
class AgentFields:
    identity: str
    friendly_name: str | None = None
    email: str | None = None
    password_hash: str | None = None
    workspace_sid: str | None = None
    worker_sid: str | None = None
    chat_service_sid: str | None = None
    roles: Sequence[str] = ("agent",)


_COLUMNS = ("sid, account_sid, identity, friendly_name, email, workspace_sid, worker_sid, chat_service_sid, roles, "
            "date_created, date_updated")


def _agent(row: asyncpg.Record) -> Agent:
    return Agent(sid=row["sid"], account_sid=row["account_sid"], identity=row["identity"],
                 friendly_name=row["friendly_name"], email=row["email"], workspace_sid=row["workspace_sid"],
                 worker_sid=row["worker_sid"], chat_service_sid=row["chat_service_sid"], roles=tuple(row["roles"]),
                 date_created=row["date_created"], date_updated=row["date_updated"])


async def insert_agent(conn: Connection, *, account_sid: str, fields: AgentFields) -> Agent:
    row = await conn.fetchrow(
        f"INSERT INTO agents (sid, account_sid, identity, friendly_name, email, password_hash, workspace_sid, "
        f"worker_sid, chat_service_sid, roles) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {_COLUMNS}",
        new_sid("AG"), account_sid, fields.identity, fields.friendly_name, fields.email, fields.password_hash,
        fields.workspace_sid, fields.worker_sid, fields.chat_service_sid, list(fields.roles),
    )
    return _agent(row)


UPDATABLE = ("identity", "friendly_name", "email", "password_hash", "workspace_sid", "worker_sid", "chat_service_sid",
             "roles")


async def update_agent(conn: Connection, *, account_sid: str, sid: str, values: dict[str, object]) -> Agent | None:
    """Sets the columns in `values` (among UPDATABLE; roles as a list); None when the account has no such agent."""
    unknown = set(values) - set(UPDATABLE)
    assert not unknown, unknown
    sets = "".join(f"{column} = ${number}, " for number, column in enumerate(values, start=3))
    row = await conn.fetchrow(
        f"UPDATE agents SET {sets}date_updated = now() WHERE sid = $1 AND account_sid = $2 RETURNING {_COLUMNS}",
        sid, account_sid, *values.values(),
    )
    return _agent(row) if row else None


async def get_agent(conn: Connection, *, account_sid: str, sid: str) -> Agent | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM agents WHERE sid = $1 AND account_sid = $2", sid, account_sid)
    return _agent(row) if row else None


async def get_agent_by_identity(conn: Connection, *, account_sid: str, identity: str) -> Agent | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM agents WHERE account_sid = $1 AND identity = $2",
                              account_sid, identity)
    return _agent(row) if row else None


async def get_agent_for_sign_in(conn: Connection, *, account_sid: str, email: str) -> tuple[Agent | None, str | None]:
    """The account's agent with this email and its password hash (for the sign-in check alone)."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS}, password_hash FROM agents WHERE account_sid = $1 "
                              f"AND lower(email) = lower($2)", account_sid, email)
    return (_agent(row), row["password_hash"]) if row else (None, None)


async def list_agents(conn: Connection, *, account_sid: str, after_sid: str | None, limit: int) -> list[Agent]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM agents WHERE account_sid = $1 AND ($2::text IS NULL OR sid > $2) ORDER BY sid LIMIT $3",
        account_sid, after_sid, limit,
    )
    return [_agent(row) for row in rows]


async def delete_agent(conn: Connection, *, account_sid: str, sid: str) -> bool:
    result = await conn.execute("DELETE FROM agents WHERE sid = $1 AND account_sid = $2", sid, account_sid)
    return bool(result.endswith(" 1"))


# --- What an agent's access tokens carry, and the records their checks read -------------------------------------

def task_router_role(agent: Agent) -> str:
    """The `task_router.role` of the agent's tokens: supervisors and admins supervise, everyone else works."""
    return "supervisor" if {"supervisor", "admin"} & set(agent.roles) else "worker"


def own_grants(agent: Agent) -> Grants:
    """The grants the agent's own record gives its tokens."""
    return Grants(identity=agent.identity, chat_service_sid=agent.chat_service_sid, workspace_sid=agent.workspace_sid,
                  worker_sid=agent.worker_sid, role=task_router_role(agent))


async def list_agents_by_sid(conn: Connection, *, sids: Sequence[str]) -> list[Agent]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM agents WHERE sid = ANY($1::text[])", list(sids))
    return [_agent(row) for row in rows]
