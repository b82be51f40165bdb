"""`/ingress/ws`: the realtime WebSocket of browsers (agent desktop, web-chat guests).

Authenticated by an access token, as `?token=…` (refused at the handshake when wrong) or as the first
message `{"type": "auth", "token": "…"}`; a token revoked later (its agent deleted or changed, its key
deleted: services/ingress/token_watch.py) closes the connection with 4001 after an error message. The
client then receives the events of the conversations it participates in and may send
`{"type": "typing", "conversation_sid": …}` and `{"type": "read", "conversation_sid": …, "index": n}`.
`resume_from` (`5`, or `CH…:5,CH…:7`) replays the message events after that index. The connection closes
when the token expires (4002); refresh and resume. A socket that has not authenticated within
`PARLEY_REALTIME_AUTH_TIMEOUT` is closed (4001); past the replica's caps on open sockets per client address
(counted from the handshake, authenticated or not) or per identity, a socket gets an error (20429) and 4029.
An agent's token (a task_router grant with a worker) also brings that worker's reservation and activity
events (services/ingress/agent_feed.py).
"""

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.websockets import WebSocketState

from services.ingress.agent_feed import AgentFeed
from services.ingress.domain.socket_caps import OpenSockets
from services.ingress.errors import too_many_sockets
from services.ingress.realtime import CLOSE_UNAUTHORIZED, Client, Closing, RealtimeHub
from services.ingress.supervisor_feed import SupervisorFeed
from services.ingress.token_watch import TokenWatch
from shared import access_tokens
from shared.auth.throttle import client_address
from shared.errors import TwilioError
from shared.forms import parse_json_object
from shared.runtime import ServiceContext
from shared.sids import is_sid

WS_PATH = "/ingress/ws"
CLOSE_EXPIRED = 4002
CLOSE_TOO_SLOW = 4008
CLOSE_TOO_MANY_SOCKETS = 4029  # as HTTP's 429 (4008 already means "fell too far behind")
CLOSE_UNSUPPORTED_DATA = 1003  # RFC 6455 "unsupported data": the protocol is JSON text frames only


def read_resume_from(value: str | None) -> Mapping[str, int] | int | None:
    """`5` (every conversation) or `CH…:5,CH…:7`; None when absent. Raises ValueError when malformed."""
    if not value:
        return None
    if value.isdigit():
        return int(value)
    positions: dict[str, int] = {}
    for part in value.split(","):
        sid, _, index = part.strip().partition(":")
        if not is_sid(sid, "CH") or not index.isdigit():
            raise ValueError(f"resume_from: expected an index or CH…:index pairs, not '{part}'")
        positions[sid] = int(index)
    return positions


def error_message(error: TwilioError) -> dict[str, Any]:
    return {"type": "error", **error.body()}


def realtime_router(context: ServiceContext, hub: RealtimeHub, watch: TokenWatch,
                    supervisors: SupervisorFeed | None = None, agents: AgentFeed | None = None) -> APIRouter:
    router = APIRouter()
    settings = context.settings
    # This replica's open sockets (services/ingress/domain/socket_caps.py): from the handshake per client
    # address, so that sockets which never authenticate count too; once authenticated, per identity.
    per_address: OpenSockets[str] = OpenSockets(settings.realtime_sockets_per_address)
    per_identity: OpenSockets[tuple[str, str]] = OpenSockets(settings.realtime_sockets_per_identity)

    async def verified(token: str) -> access_tokens.VerifiedToken:
        claims, _ = await context.authenticate.verify_token(token)
        return claims

    async def authenticated(websocket: WebSocket) -> tuple[access_tokens.VerifiedToken, str] | None:
        """The socket's claims and token, accepted; None when it was refused (and closed)."""
        token = websocket.query_params.get("token")
        if token is not None:
            try:
                claims = await verified(token)
            except access_tokens.AccessTokenRefused:
                await websocket.close(code=CLOSE_UNAUTHORIZED)  # before accept: the handshake is refused (403)
                return None
            await websocket.accept()
            return claims, token
        await websocket.accept()
        timeout = settings.realtime_auth_timeout_seconds
        try:
            frame = await asyncio.wait_for(websocket.receive(), timeout)
            # A binary frame or a disconnect carries no text: refused like any message that is not the auth one.
            first = parse_json_object(frame.get("text") or "null", name="auth")
            if not isinstance(first, dict) or first.get("type") != "auth" or not isinstance(first.get("token"), str):
                raise access_tokens.invalid_token("the first message must be {\"type\": \"auth\", \"token\": …}")
            return await verified(first["token"]), first["token"]
        except TimeoutError:
            await _refuse(websocket, access_tokens.invalid_token(f"no auth message within {timeout:g} s"),
                          code=CLOSE_UNAUTHORIZED)
        except (TwilioError, ValueError, WebSocketDisconnect) as error:
            refusal = error if isinstance(error, TwilioError) else access_tokens.invalid_token("no auth message")
            await _refuse(websocket, refusal, code=CLOSE_UNAUTHORIZED)
        return None

    @router.websocket(WS_PATH)
    async def realtime(websocket: WebSocket) -> None:
        address = client_address(websocket)
        if not per_address.admit(address):
            await _refuse(websocket, too_many_sockets("from this address", per_address.cap),
                          code=CLOSE_TOO_MANY_SOCKETS)
            return
        try:
            try:
                resume_from = read_resume_from(websocket.query_params.get("resume_from"))
            except ValueError:
                await websocket.close(code=1008, reason="invalid resume_from")
                return
            signed_in = await authenticated(websocket)
            if signed_in is None:
                return
            claims, token = signed_in
            identity = (claims.account_sid, claims.identity)
            if not per_identity.admit(identity):
                await _refuse(websocket, too_many_sockets(f"for identity '{claims.identity}'", per_identity.cap),
                              code=CLOSE_TOO_MANY_SOCKETS)
                return
            try:
                await connected(websocket, claims, token=token, resume_from=resume_from)
            finally:
                per_identity.release(identity)
        finally:
            per_address.release(address)

    async def connected(websocket: WebSocket, claims: access_tokens.VerifiedToken, *, token: str,
                        resume_from: Mapping[str, int] | int | None) -> None:
        client = Client(account_sid=claims.account_sid, identity=claims.identity)
        worker_sid = claims.grants.worker_sid  # an agent's socket also carries its worker's TaskRouter events
        watch.watch(client, claims)
        if agents is not None:
            agents.connect(client, worker_sid)
        try:
            conversations = await hub.connect(client, resume_from=resume_from)
            await websocket.send_json({"type": "connected", "identity": client.identity,
                                       "account_sid": client.account_sid, "conversations": conversations,
                                       "expires_at": claims.expires_at, "worker_sid": worker_sid})
            if supervisors is not None:
                supervisors.connected(client, token=token, role=claims.grants.role,
                                      workspace_sid=claims.grants.workspace_sid)
            await _serve(websocket, hub, client, expires_at=claims.expires_at)
        finally:
            watch.unwatch(client)
            hub.disconnect(client)
            if supervisors is not None:
                supervisors.disconnected(client)
            if agents is not None:
                agents.disconnect(client, worker_sid)

    return router


async def _refuse(websocket: WebSocket, error: TwilioError, *, code: int) -> None:
    """An error message, then the close with `code`. A handshake not yet answered is accepted first: a browser
    learns nothing from a refused handshake (1006, whatever the status), while the error and code tell it why."""
    with contextlib.suppress(Exception):  # the client may already be gone; nothing is left to tell it
        if websocket.client_state == WebSocketState.CONNECTING:
            await websocket.accept()
        await websocket.send_json(error_message(error))
        await websocket.close(code=code)


async def _serve(websocket: WebSocket, hub: RealtimeHub, client: Client, *, expires_at: int) -> None:
    writer = asyncio.create_task(_write(websocket, client))
    try:
        while True:
            remaining = expires_at - time.time()
            if remaining <= 0:
                await websocket.send_json(error_message(access_tokens.expired_token()))
                await websocket.close(code=CLOSE_EXPIRED)
                return
            try:
                frame = await asyncio.wait_for(websocket.receive(), timeout=remaining)
            except TimeoutError:
                continue
            if frame["type"] == "websocket.disconnect" or writer.done():
                return
            if frame.get("text") is None:
                await websocket.close(code=CLOSE_UNSUPPORTED_DATA, reason="Messages are JSON text frames")
                return
            await _handle(websocket, hub, client, frame["text"])
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


async def _write(websocket: WebSocket, client: Client) -> None:
    while True:
        message = await client.outbox.get()
        if message is None:  # fell too far behind: better to reconnect and resume than to lag forever
            await websocket.close(code=CLOSE_TOO_SLOW)
            return
        if isinstance(message, Closing):
            await websocket.send_json(message.message)
            await websocket.close(code=message.code)
            return
        await websocket.send_text(json.dumps(message))


async def _handle(websocket: WebSocket, hub: RealtimeHub, client: Client, incoming: str) -> None:
    try:
        message = parse_json_object(incoming, name="message")  # bounded depth: a deep frame is refused, not fatal
    except TwilioError:
        message = None
    if not isinstance(message, dict):
        await websocket.send_json(error_message(TwilioError(400, 20001, "Messages are JSON objects with a type")))
        return
    kind = message.get("type")
    if kind == "ping":
        await websocket.send_json({"type": "pong"})
        return
    conversation_sid = message.get("conversation_sid")
    if kind not in ("typing", "read"):
        await websocket.send_json(error_message(TwilioError(400, 20001, f"Unknown message type '{kind}'")))
        return
    if not isinstance(conversation_sid, str) or conversation_sid not in client.conversations:
        # Not a participant: the same answer as for a conversation that does not exist.
        await websocket.send_json(error_message(TwilioError(404, 20404, f"Conversation {conversation_sid} was not found")))
        return
    if kind == "typing":
        await hub.typing(client, conversation_sid)
        return
    index = message.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        await websocket.send_json(error_message(TwilioError(400, 20001, "A read message needs a non-negative index")))
        return
    await hub.read_horizon(client, conversation_sid, index)
