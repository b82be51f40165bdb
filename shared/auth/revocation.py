"""Whether a valid access token still speaks for whom it was minted: its agent's record, its signing key.

A token Parley minted for an agent (stamped with the agent's SID and a digest of its record) is refused once
that agent is gone or its identity, grants or role changed; any token is refused once its signing key is
deleted. REST calls check through a short cache (the same process forgets at once what it changed itself);
open WebSockets are re-checked in bulk, uncached, every few seconds (services/ingress/token_watch.py), so a
change made by any process closes them within that interval.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from shared.access_tokens import AGENT, AccessTokenRefused, VerifiedToken, invalid_token, record_digest
from shared.auth import agents, keys
from shared.auth.accounts import AccountDirectory

_MAX_CACHED = 10_000


def refusal(token: VerifiedToken, agent: agents.Agent | None) -> AccessTokenRefused | None:
    """Why a token of an agent (`agent`: its current record, None when gone) no longer holds; None when it does."""
    stamp = token.stamp
    if stamp is None or stamp.kind != AGENT:
        return None  # not minted for an agent: nothing to outlive but its key
    if agent is None or agent.sid != stamp.agent_sid or agent.account_sid != token.account_sid:
        return invalid_token("the agent it was issued to no longer exists")
    if record_digest(agents.own_grants(agent)) != stamp.agent_record:
        return invalid_token("the agent's identity, grants or role changed since it was issued; sign in again")
    return None


class Revocations:
    """The agent records tokens are checked against, cached for `cache_seconds` (0: always read)."""

    def __init__(self, directory: AccountDirectory, *, cache_seconds: float) -> None:
        self._directory = directory
        self._pool = directory.pool
        self._cache_seconds = cache_seconds
        self._agents: dict[str, tuple[float, agents.Agent | None]] = {}

    async def check(self, token: VerifiedToken) -> None:
        """Raises AccessTokenRefused when the token's agent no longer matches it."""
        stamp = token.stamp
        if stamp is None or stamp.kind != AGENT:
            return
        if stamp.agent_sid is None:
            raise invalid_token("it names no agent")
        if refusal(token, await self._agent(token.account_sid, stamp.agent_sid, cached=True)) is None:
            return
        # A refusal is never taken from the cache: a token minted after a change must not wait for it to lapse.
        if (error := refusal(token, await self._agent(token.account_sid, stamp.agent_sid, cached=False))) is not None:
            raise error

    def forget_agent(self, sid: str) -> None:
        self._agents.pop(sid, None)

    async def refused(self, tokens: Sequence[VerifiedToken]) -> dict[int, AccessTokenRefused]:
        """Read fresh, in two queries: which of these tokens (by position) are refused now, and why."""
        key_sids = sorted({token.key_sid for token in tokens})
        agent_sids = sorted({token.stamp.agent_sid for token in tokens
                             if token.stamp is not None and token.stamp.agent_sid is not None})
        async with self._pool.acquire() as conn:
            existing_keys = await keys.list_key_sids(conn, sids=key_sids) if key_sids else set()
            current = {agent.sid: agent for agent in await agents.list_agents_by_sid(conn, sids=agent_sids)} \
                if agent_sids else {}
        now = time.monotonic()
        for sid in agent_sids:
            self._remember(sid, current.get(sid), now)
        refused: dict[int, AccessTokenRefused] = {}
        for position, token in enumerate(tokens):
            if token.key_sid not in existing_keys:
                self._directory.forget_key(token.key_sid)  # so REST calls here refuse it at once too
                refused[position] = invalid_token("its signing key was deleted")
            elif (error := refusal(token, current.get(token.stamp.agent_sid or "") if token.stamp else None)):
                refused[position] = error
        return refused

    async def _agent(self, account_sid: str, sid: str, *, cached: bool) -> agents.Agent | None:
        now = time.monotonic()
        known = self._agents.get(sid) if cached else None
        if known is not None and now - known[0] < self._cache_seconds:
            return known[1]
        agent = await agents.get_agent(self._pool, account_sid=account_sid, sid=sid)
        self._remember(sid, agent, now)
        return agent

    def _remember(self, sid: str, agent: agents.Agent | None, now: float) -> None:
        if len(self._agents) > _MAX_CACHED:
            self._agents.clear()
        self._agents[sid] = (now, agent)
