"""A real HTTP server on 127.0.0.1 standing in for a business's webhook endpoint."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.runtime import HttpServer, free_port
from shared.signatures import is_valid_twilio_signature


@dataclass
class ReceivedRequest:
    method: str
    url: str
    path: str
    headers: dict[str, str]
    body: bytes
    params: list[tuple[str, str]]
    received_at: float = field(default_factory=time.time)

    def field(self, name: str) -> str | None:
        return next((value for key, value in self.params if key == name), None)

    def has_valid_signature(self, auth_token: str) -> bool:
        return is_valid_twilio_signature(self.url, self.params if self.method == "POST" else [],
                                         auth_token, self.headers.get("x-twilio-signature"))


# Decides the answer (None: the default one); may be a coroutine function, e.g. to hang.
Responder = Callable[[ReceivedRequest], Response | Awaitable[Response | None] | None]


@dataclass
class Receiver:
    """Records every request; answers 200 unless `responses` (a queue of status codes) or `responder` say otherwise."""

    requests: list[ReceivedRequest] = field(default_factory=list)  # answered with 2xx
    attempts: list[ReceivedRequest] = field(default_factory=list)  # every request, whatever the answer
    responses: list[int] = field(default_factory=list)
    responder: Responder | None = None
    delay_seconds: float = 0.0
    # While set and not released, every request hangs after it is counted in `attempts` (a server that never
    # answers); releasing it lets them finish, so the server can stop.
    hold: asyncio.Event | None = None
    port: int = 0
    _server: HttpServer | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int | None = None) -> None:
        self.port = port or self.port or free_port()
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])
        self._server = HttpServer(app, host="127.0.0.1", port=self.port)  # type: ignore[arg-type]
        await self._server.start()

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        params = parse_qsl(body.decode(), keep_blank_values=True) if request.method == "POST" else []
        received = ReceivedRequest(
            method=request.method,
            url=str(request.url),
            path=request.url.path,
            headers={key.lower(): value for key, value in request.headers.items()},
            body=body,
            params=params,
        )
        self.attempts.append(received)
        await self._before_answering(received)
        response = self.responder(received) if self.responder else None
        if inspect.isawaitable(response):
            response = await response
        if response is None:
            status = self.responses.pop(0) if self.responses else 200
            response = Response(status_code=status)
        if response.status_code < 300:
            async with self._arrived:
                self.requests.append(received)
                self._arrived.notify_all()
        return response

    async def _before_answering(self, received: ReceivedRequest) -> None:
        if self.hold is not None:
            await self.hold.wait()
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)

    def of_type(self, event_type: str) -> list[ReceivedRequest]:
        return [request for request in self.requests if request.field("EventType") == event_type]

    async def wait_for(self, count: int, *, timeout: float = 20.0,
                       where: Callable[[ReceivedRequest], bool] = lambda _: True) -> list[ReceivedRequest]:
        """Wait until `count` accepted requests match `where`."""
        async with self._arrived:
            try:
                await asyncio.wait_for(
                    self._arrived.wait_for(lambda: sum(1 for r in self.requests if where(r)) >= count), timeout
                )
            except TimeoutError:
                raise AssertionError(
                    f"receiver got {len([r for r in self.requests if where(r)])} matching requests, expected {count}"
                ) from None
        return [request for request in self.requests if where(request)]
