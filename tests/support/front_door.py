"""What deploy/nginx.conf does, for tests that run the services as separate processes: one address routing each
URL prefix to the service owning it (the same table, read from the same file), spread over the service's
replicas, and trying the next replica when one refuses the connection (nginx's `proxy_next_upstream error`).

A client can tell what happened from the header `X-Front-Door` of a 502: `unreachable` (no replica took the
connection: nothing was sent, a retry is safe) or `interrupted` (a replica took the request and died or hung
before answering: it may or may not have acted on it).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.runtime import HttpServer, free_port

NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "content-length", "content-encoding"}


def proxy_locations() -> list[tuple[str, str]]:
    """(URL prefix, service) of every location in deploy/nginx.conf."""
    return re.findall(r"location (\S+) \{ set \$upstream (\w+);", NGINX_CONF.read_text())


def upstream_for(path: str) -> str | None:
    """nginx picks the longest matching prefix location."""
    matches = [(prefix, upstream) for prefix, upstream in proxy_locations() if path.startswith(prefix)]
    return max(matches, key=lambda match: len(match[0]))[1] if matches else None


class FrontDoor:
    """Listens on a free port; `replicas(service)` names the ports serving a service at this moment."""

    def __init__(self, replicas: Callable[[str], list[int]], *, timeout: float = 30.0) -> None:
        self._replicas = replicas
        self._turns: dict[str, Iterator[int]] = {}
        self._http = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=200))
        self.port = free_port()
        self._server = HttpServer(Starlette(routes=[Route("/{path:path}", self._forward, methods=[  # type: ignore[arg-type]
            "GET", "POST", "DELETE", "PUT", "PATCH"])]), host="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        await self._server.start()

    async def stop(self) -> None:
        await self._server.stop()
        await self._http.aclose()

    def _order(self, service: str) -> list[int]:
        """The service's replicas, starting one further each request (round robin)."""
        ports = self._replicas(service)
        if not ports:
            return []
        start = next(self._turns.setdefault(service, itertools.count()))
        return [ports[(start + offset) % len(ports)] for offset in range(len(ports))]

    async def _forward(self, request: Request) -> Response:
        service = upstream_for(request.url.path)
        if service is None:
            return Response(status_code=404)
        body = await request.body()
        headers = [(key, value) for key, value in request.headers.items() if key.lower() not in HOP_BY_HOP]
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        for port in self._order(service):
            try:
                answer = await self._http.request(request.method, f"http://127.0.0.1:{port}{target}",
                                                  headers=headers, content=body)
            except httpx.ConnectError:
                continue  # refused: nothing was sent, the next replica may take it
            except httpx.TransportError:
                return Response(status_code=502, headers={"X-Front-Door": "interrupted"})
            kept = [(key, value) for key, value in answer.headers.items() if key.lower() not in HOP_BY_HOP]
            response = Response(content=answer.content, status_code=answer.status_code)
            response.raw_headers = [(key.encode("latin-1"), value.encode("latin-1")) for key, value in kept] + [
                (b"content-length", str(len(answer.content)).encode())]
            return response
        return Response(status_code=502, headers={"X-Front-Door": "unreachable"})
