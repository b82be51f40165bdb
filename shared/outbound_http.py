"""The one HTTP client for calls leaving Parley (webhooks, provider APIs, media), bound to the egress policy.

Answers are read as a stream and cut at a limit: whoever Parley calls may answer with gigabytes, and the
bytes past the limit never reach memory (the connection is dropped instead of drained).
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from shared.egress import IPNetwork, parse_networks, resolve_destination


class AnswerTooLarge(Exception):
    """The answer's body passed the limit; its status line and headers had arrived."""

    def __init__(self, status_code: int, limit: int) -> None:
        super().__init__(f"the answer (HTTP {status_code}) is larger than the {limit} bytes allowed")
        self.status_code = status_code
        self.limit = limit


# Headers that describe the body as it came over the wire, not the decoded bytes a bounded read keeps.
_WIRE_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class OutboundHttp:
    def __init__(self, egress_networks: Sequence[str], *, max_answer_bytes: int, max_connections: int = 200) -> None:
        self._allowed: list[IPNetwork | str] = parse_networks(egress_networks)
        self._max_answer_bytes = max_answer_bytes
        self._client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            follow_redirects=False,
            trust_env=False,
        )

    @property
    def allowed_networks(self) -> list[IPNetwork | str]:
        return self._allowed

    async def request(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        data: Sequence[tuple[str, str]] | None = None,
        content: bytes | None = None,
        auth: tuple[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """Send to the address the policy checked: the URL's host becomes that address, the Host
        header and TLS server name keep the original name. The answer's body is read up to `max_bytes`
        (decoded; default: the client's answer limit). Raises EgressRefused, AnswerTooLarge or httpx errors."""
        destination = await resolve_destination(url, self._allowed)
        parts = urlsplit(url)
        literal = str(destination.address)
        if isinstance(destination.address, ipaddress.IPv6Address):
            literal = f"[{literal}]"
        pinned = urlunsplit(parts._replace(netloc=f"{literal}:{destination.port}"))
        all_headers = {"Host": parts.netloc.rsplit("@", 1)[-1], **(headers or {})}
        if auth is not None:
            all_headers["Authorization"] = basic_authorization(*auth)
        extensions: dict[str, Any] = {"timeout": httpx.Timeout(timeout).as_dict()}
        if destination.scheme == "https":
            extensions["sni_hostname"] = destination.host
        is_query = method.upper() == "GET"
        request = self._client.build_request(
            method,
            pinned,
            headers=all_headers,
            data=dict_list(data) if data is not None and not is_query else None,
            params=list(data) if data is not None and is_query else None,
            content=content,
            extensions=extensions,
        )
        return await self._bounded(await self._client.send(request, stream=True),
                                   self._max_answer_bytes if max_bytes is None else max_bytes)

    @staticmethod
    async def _bounded(response: httpx.Response, limit: int) -> httpx.Response:
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise AnswerTooLarge(response.status_code, limit)
                chunks.append(chunk)
        finally:
            await response.aclose()  # before the end of the body: the connection is closed, not reused
        headers = [(name, value) for name, value in response.headers.multi_items() if name.lower() not in _WIRE_HEADERS]
        return httpx.Response(response.status_code, headers=headers, content=b"".join(chunks),
                              request=response.request, extensions=response.extensions)

    async def close(self) -> None:
        await self._client.aclose()


def dict_list(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """httpx encodes repeated form keys from a dict of lists."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def basic_authorization(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
