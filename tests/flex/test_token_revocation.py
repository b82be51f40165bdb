"""Revoked access tokens: an agent deleted or changed, a signing key deleted. Its tokens are refused (401, 20101)
on REST and at the WebSocket handshake, and its open sockets are closed (an error, then 4001) within 5 s, in
every process, including one that had just read the agent's record (docs/auth.md, Revocation)."""

import asyncio
import json
from typing import Any

import asyncpg
import httpx
import pytest
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import TaskRouterGrant
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from services.ingress.app import SERVICE as INGRESS
from shared.runtime import free_port
from shared.settings import Settings
from tests.conftest import StartParley
from tests.flex.conftest import Agent, ContactCenter
from tests.support.parley import RunningParley
from tests.support.realtime import receive, ws_url
from tests.support.waiting import eventually

# What the issue promises: a revoked agent's sockets are closed this soon after the change.
REVOCATION_BOUND_SECONDS = 5.0


async def register(center: ContactCenter, agent: Agent, identity: str | None = None) -> str:
    """The agent's record (/parley/v1/Agents) on its TaskRouter worker; its AG… SID."""
    created = await center.post("/parley/v1/Agents", {
        "Identity": identity or agent.identity, "WorkspaceSid": center.workspace_sid, "WorkerSid": agent.sid},
        status=201)
    return str(created["sid"])


async def token_of(center: ContactCenter, identity: str) -> str:
    """What /parley/v1/AccessTokens mints for the agent with this identity, as its record stands now."""
    return str((await center.post("/parley/v1/AccessTokens", {"Identity": identity}, status=201))["token"])


def bearer(parley: RunningParley, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=parley.base_url, headers={"X-Twilio-Token": token}, timeout=30)


async def open_socket(parley: RunningParley, token: str, opened: list[ClientConnection]) -> ClientConnection:
    ws = await connect(ws_url(parley, token=token))
    opened.append(ws)
    assert (await receive(ws))["type"] == "connected"
    return ws


async def closed_as_revoked(ws: ClientConnection) -> None:
    """Within the bound: an error frame with code 20101 (past any events), then the close with 4001."""
    async def until_closed() -> tuple[list[dict[str, Any]], int | None]:
        errors = []
        try:
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "error":
                    errors.append(message)
        except ConnectionClosed as closed:
            return errors, closed.rcvd.code if closed.rcvd is not None else None

    errors, code = await asyncio.wait_for(until_closed(), REVOCATION_BOUND_SECONDS)
    assert [(error["code"], error["status"]) for error in errors] == [(20101, 401)], errors
    assert code == 4001


def refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == 20101


async def handshake_refused(parley: RunningParley, token: str) -> None:
    with pytest.raises(InvalidStatus) as refusal:
        await connect(ws_url(parley, token=token))
    assert refusal.value.response.status_code == 403


async def still_open(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"type": "ping"}))
    while (message := await receive(ws))["type"] != "pong":
        assert message["type"] != "error", message


async def test_a_deleted_agents_token_is_refused_and_its_sockets_close_in_every_process(
    center: ContactCenter, launch: StartParley, sockets: list[ClientConnection],
) -> None:
    # Another process's view (one ingress alone, as in its own container): its own caches, its own sockets.
    other = await launch([INGRESS], port=free_port())
    agent_sid = await register(center, center.alice)
    token = await token_of(center, "alice")
    worker = f"{center.ws}/Workers/{center.alice.sid}"
    async with bearer(center.parley, token) as here, bearer(other, token) as there:
        assert (await here.get(worker)).status_code == 200
        assert (await there.post("/parley/v1/AccessTokens")).status_code == 201  # read (and cached) the agent there
        opened = [await open_socket(center.parley, token, sockets), await open_socket(other, token, sockets)]

        deleted = await center.http.delete(f"/parley/v1/Agents/{agent_sid}")
        assert deleted.status_code == 204, deleted.text

        await asyncio.gather(*(closed_as_revoked(ws) for ws in opened))
        refused(await here.get(worker))  # the process that deleted it refuses at once
        refused(await here.get("/conversations/v1/Conversations"))
        refused(await here.post("/parley/v1/AccessTokens"))  # nor is it refreshed
        # The other process, once its short cache lapses: within the same bound.
        refused(await eventually(lambda: there.post("/parley/v1/AccessTokens"), timeout=REVOCATION_BOUND_SECONDS,
                                 until=lambda response: response.status_code != 201, what="the other process to refuse"))
    await handshake_refused(center.parley, token)
    await handshake_refused(other, token)


@pytest.mark.parametrize("change", ["role", "worker"])
async def test_an_agent_whose_role_or_worker_changed_needs_a_new_token(
    center: ContactCenter, settings: Settings, sockets: list[ClientConnection], change: str,
) -> None:
    agent_sid = await register(center, center.alice)
    old = await token_of(center, "alice")
    old_socket = await open_socket(center.parley, old, sockets)

    # Changed behind the API's back (as an admin's tool or another process would): only the record tells.
    conn = await asyncpg.connect(settings.database_url)
    try:
        column, value = ("roles", ["supervisor"]) if change == "role" else ("worker_sid", center.bob.sid)
        schema = settings.schema_name("accounts")
        await conn.execute(f'UPDATE "{schema}".agents SET {column} = $2, date_updated = now() WHERE sid = $1',
                           agent_sid, value)
    finally:
        await conn.close()

    new = await token_of(center, "alice")
    new_socket = await open_socket(center.parley, new, sockets)
    await closed_as_revoked(old_socket)
    async with bearer(center.parley, old) as stale, bearer(center.parley, new) as fresh:
        refused(await eventually(lambda: stale.get(f"{center.ws}/Workers/{center.alice.sid}"),
                                 until=lambda response: response.status_code == 401,
                                 timeout=REVOCATION_BOUND_SECONDS, what="the old token to be refused"))
        now_worker = center.bob.sid if change == "worker" else center.alice.sid
        assert (await fresh.get(f"{center.ws}/Workers/{now_worker}")).status_code == 200

    # Barrier: a socket opened after the new one is closed by a later check, which also saw the new one.
    other_sid = await register(center, center.bob)
    doomed = await open_socket(center.parley, await token_of(center, "bob"), sockets)
    assert (await center.http.delete(f"/parley/v1/Agents/{other_sid}")).status_code == 204
    await closed_as_revoked(doomed)
    await still_open(new_socket)


async def test_a_token_signed_with_a_deleted_key_is_refused_and_its_socket_closed(
    center: ContactCenter, sockets: list[ClientConnection],
) -> None:
    account_sid = center.parley.account.sid
    key = await center.post(f"/api/2010-04-01/Accounts/{account_sid}/Keys.json", {"FriendlyName": "token server"},
                            status=201)
    minted = AccessToken(account_sid, key["sid"], key["secret"], identity="alice")  # the business's own token server
    minted.add_grant(TaskRouterGrant(workspace_sid=center.workspace_sid, worker_sid=center.alice.sid, role="worker"))
    token = minted.to_jwt()
    worker = f"{center.ws}/Workers/{center.alice.sid}"
    async with bearer(center.parley, token) as holder:
        assert (await holder.get(worker)).status_code == 200
        ws = await open_socket(center.parley, token, sockets)

        deleted = await center.http.delete(f"/api/2010-04-01/Accounts/{account_sid}/Keys/{key['sid']}.json")
        assert deleted.status_code == 204, deleted.text
        await closed_as_revoked(ws)
        refused(await holder.get(worker))
    await handshake_refused(center.parley, token)
