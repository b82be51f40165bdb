"""`/ingress/ws`: the realtime WebSocket of browsers (agent desktop, web-chat guests).

Authenticated by an access token, as `?token=…` (refused at the handshake when wrong) or as the first
message `{"type": "auth", "token": "…"}`; a token revoked later (its agent deleted or changed, its key
deleted: services/ingress/token_watch.py) closes the connection with 4001 after an error message. The
client then receives the events of the conversations it participates in and may send
`{"type": "typing", "conversation_sid": …}` and `{"type": "read", "conversation_sid": …, "index": n}`.
`resume_from` (`5`, or `CH…:5,CH…:7`) replays the message events after that index. The connection closes
when the token expires (4002); refresh and resume.
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

from services.ingress.agent_feed import AgentFeed
from services.ingress.realtime import CLOSE_UNAUTHORIZED, Client, Closing, RealtimeHub
from services.ingress.supervisor_feed import SupervisorFeed
from services.ingress.token_watch import TokenWatch
from shared import access_tokens
from shared.errors import TwilioError
from shared.forms import parse_json_object
from shared.runtime import ServiceContext
from shared.sids import is_sid

WS_PATH = "/ingress/ws"
AUTH_TIMEOUT_SECONDS = 10.0
CLOSE_EXPIRED = 4002
CLOSE_TOO_SLOW = 4008
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

    async def verified(token: str) -> access_tokens.VerifiedToken:
        claims, _ = await context.authenticate.verify_token(token)
        return claims

    @router.websocket(WS_PATH)
    async def realtime(websocket: WebSocket) -> None:
        token = websocket.query_params.get("token")
        try:
            resume_from = read_resume_from(websocket.query_params.get("resume_from"))
        except ValueError:
            await websocket.close(code=1008, reason="invalid resume_from")
            return
        if token is not None:
            try:
                claims = await verified(token)
            except access_tokens.AccessTokenRefused:
                await websocket.close(code=CLOSE_UNAUTHORIZED)  # before accept: the handshake is refused (403)
                return
            await websocket.accept()
        else:
            await websocket.accept()
            try:
                frame = await asyncio.wait_for(websocket.receive(), AUTH_TIMEOUT_SECONDS)
                # A binary frame or a disconnect carries no text: refused like any message that is not the auth one.
                first = parse_json_object(frame.get("text") or "null", name="auth")
                if not isinstance(first, dict) or first.get("type") != "auth" or not isinstance(first.get("token"), str):
                    raise access_tokens.invalid_token("the first message must be {\"type\": \"auth\", \"token\": …}")
                claims = await verified(first["token"])
                token = first["token"]
            except (TwilioError, TimeoutError, ValueError, WebSocketDisconnect) as error:
                refusal = error if isinstance(error, TwilioError) else access_tokens.invalid_token("no auth message")
                with contextlib.suppress(Exception):
                    await websocket.send_json(error_message(refusal))
                    await websocket.close(code=CLOSE_UNAUTHORIZED)
                return
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
