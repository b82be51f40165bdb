"""The realtime WebSocket's caps on open sockets, per identity and per client address (one replica), and sockets
that never authenticate: counted against their address, closed when the auth timeout passes."""

import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from services.ingress.app import SERVICE as INGRESS
from shared.settings import Settings
from tests.conftest import StartParley
from tests.support.infrastructure import Infrastructure
from tests.support.parley import RunningParley, remove_isolated_names
from tests.support.parley import test_settings as isolated_settings
from tests.support.realtime import receive, token_for, ws_url
from tests.support.waiting import eventually

PER_IDENTITY, PER_ADDRESS = 3, 5  # every test socket comes from 127.0.0.1: one address
TOO_MANY_SOCKETS, CLOSE_TOO_MANY_SOCKETS = 20429, 4029
INVALID_TOKEN, CLOSE_UNAUTHORIZED = 20101, 4001


@pytest.fixture
async def settings(infra: Infrastructure) -> AsyncIterator[Settings]:
    """Small caps, so that a test reaches them, and time enough to authenticate (a test shrinks it)."""
    isolated = isolated_settings(infra, PARLEY_REALTIME_SOCKETS_PER_IDENTITY=PER_IDENTITY,
                                 PARLEY_REALTIME_SOCKETS_PER_ADDRESS=PER_ADDRESS, PARLEY_REALTIME_AUTH_TIMEOUT=60.0)
    yield isolated
    await remove_isolated_names(isolated)


@pytest.fixture
async def ingress(launch: StartParley) -> RunningParley:
    return await launch([INGRESS])


async def refusal(ws: ClientConnection) -> tuple[int, int | None]:
    """The code of the error the server sent, and the close code that followed it."""
    error = await receive(ws)
    assert error["type"] == "error", error
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    return error["code"], closed.value.rcvd.code if closed.value.rcvd is not None else None


async def unauthenticated(parley: RunningParley, opened: list[ClientConnection]) -> ClientConnection:
    """A socket through the handshake that has not sent its auth message (yet)."""
    ws = await connect(ws_url(parley))
    opened.append(ws)
    return ws


async def signed_in(parley: RunningParley, token: str, opened: list[ClientConnection]) -> ClientConnection | None:
    """A socket authenticated with `token`, or None when the server refused it for too many sockets."""
    ws = await connect(ws_url(parley, token=token))
    opened.append(ws)
    first = await receive(ws)
    if first["type"] == "connected":
        return ws
    assert first["code"] == TOO_MANY_SOCKETS, first
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_TOO_MANY_SOCKETS
    return None


async def admitted(parley: RunningParley, token: str, opened: list[ClientConnection], *, what: str) -> None:
    """A place is freed once the server has seen a socket go, a moment after its client did: retry until then."""
    await eventually(lambda: signed_in(parley, token, opened), until=lambda ws: ws is not None, what=what)


async def test_an_identity_holds_at_most_its_cap_of_sockets_whatever_its_tokens_and_closing_one_frees_a_slot(
    ingress: RunningParley, sockets: list[ClientConnection]
) -> None:
    token = await token_for(ingress, "ada")
    ada = [await signed_in(ingress, token, sockets) for _ in range(PER_IDENTITY)]
    assert all(ws is not None for ws in ada)

    assert await signed_in(ingress, token, sockets) is None
    # A fresh token is the same person: refreshing does not buy more sockets, by query or by first message.
    assert await signed_in(ingress, await token_for(ingress, "ada"), sockets) is None
    ws = await unauthenticated(ingress, sockets)
    await ws.send(json.dumps({"type": "auth", "token": await token_for(ingress, "ada")}))
    assert await refusal(ws) == (TOO_MANY_SOCKETS, CLOSE_TOO_MANY_SOCKETS)

    # Someone else from the same address is not held to Ada's count.
    assert await signed_in(ingress, await token_for(ingress, "bob"), sockets) is not None

    first = ada[0]
    assert first is not None
    await first.close()
    await admitted(ingress, token, sockets, what="a socket for ada once one of hers closed")


async def test_sockets_count_against_their_address_from_the_handshake_before_they_authenticate(
    ingress: RunningParley, sockets: list[ClientConnection]
) -> None:
    bob, carol, dan = [await token_for(ingress, identity) for identity in ("bob", "carol", "dan")]
    waiting = [await unauthenticated(ingress, sockets) for _ in range(PER_ADDRESS)]

    assert await signed_in(ingress, bob, sockets) is None
    assert await refusal(await unauthenticated(ingress, sockets)) == (TOO_MANY_SOCKETS, CLOSE_TOO_MANY_SOCKETS)

    # One that authenticates keeps its place (and still counts); one that leaves frees it.
    await waiting[0].send(json.dumps({"type": "auth", "token": carol}))
    assert (await receive(waiting[0]))["type"] == "connected"
    assert await signed_in(ingress, dan, sockets) is None
    await waiting[1].close()
    await admitted(ingress, dan, sockets, what="a socket from the address once one of its sockets closed")


async def test_a_socket_that_does_not_authenticate_in_time_is_closed_and_frees_its_place(
    launch: StartParley, settings: Settings, sockets: list[ClientConnection]
) -> None:
    ingress = await launch([INGRESS], settings=settings.model_copy(update={"realtime_auth_timeout_seconds": 0.5}))
    silent = [await unauthenticated(ingress, sockets) for _ in range(PER_ADDRESS)]
    for ws in silent:
        assert await refusal(ws) == (INVALID_TOKEN, CLOSE_UNAUTHORIZED)

    # Their places are the address's again; sockets with a token in the query are authenticated at the handshake.
    tokens = [await token_for(ingress, f"agent-{n}") for n in range(PER_ADDRESS)]
    for token in tokens:
        await admitted(ingress, token, sockets, what="a place freed by a timed-out socket")
