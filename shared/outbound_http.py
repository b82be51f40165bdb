"""The one HTTP client for calls leaving Parley (webhooks, provider APIs, media), bound to the egress policy."""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from shared.egress import IPNetwork, parse_networks, resolve_destination


class OutboundHttp:
    def __init__(self, egress_networks: Sequence[str], *, max_connections: int = 200) -> None:
        self._allowed: list[IPNetwork | str] = parse_networks(egress_networks)
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
    ) -> httpx.Response:
        """Send to the address the policy checked: the URL's host becomes that address, the Host
        header and TLS server name keep the original name. Raises EgressRefused or httpx errors."""
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
        return await self._client.send(request)

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
