"""Where a request goes: the endpoint a URL belongs to, and the exact URL a delivery is sent (and signed) as."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode, urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def endpoint_of(url: str) -> str:
    """`scheme://host:port`: deliveries to one endpoint share its concurrency limit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        port = 0
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def request_url(url: str, *, method: str, params: Sequence[tuple[str, str]]) -> str:
    """The URL as the receiver sees it: no fragment (never sent), and for GET the parameters in the query."""
    base = url.partition("#")[0]
    if method.upper() != "GET" or not params:
        return base
    separator = "" if base.endswith(("?", "&")) else "&" if "?" in base else "?"
    return base + separator + urlencode(list(params))
