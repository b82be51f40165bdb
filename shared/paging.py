"""Twilio's paging (`PageSize`, `Page`, `PageToken`, the `meta` block) on keyset queries.

A token carries the last key seen and the page number, so page 1,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.crypto import SecretBox
from shared.errors import invalid_parameter
from shared.forms import Form

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    size: int
    page: int
    after: Any = None
    before: Any = None


def read_page_request(form: Form, *, default_size: int = 50, max_size: int = 1000) -> PageRequest:
    size = form.int("PageSize", minimum=1, maximum=None) or default_size
    size = min(size, max_size)
    token = form.str("PageToken")
    if not token:
        return PageRequest(size=size, page=0)
    try:
        encoded, _, mac = token.removeprefix("PT").partition(".")
        if not any(hmac.compare_digest(mac, _mac(key, encoded)) for key in _keys().accepted):
            raise ValueError("tampered")
        decoded = json.loads(base64.urlsafe_b64decode(encoded + "==").decode())
        if not isinstance(decoded, dict):
            raise TypeError("not an object")
        page = decoded["p"]
        if not _is_int(page) or not 0 <= page <= _MAX_PAGE:
            raise TypeError("page")
        after, before = decoded.get("a"), decoded.get("b")
        if not (_is_key(after) and _is_key(before)) or (after is not None and before is not None):
            raise TypeError("key")
        return PageRequest(size=size, page=page, after=after, before=before)
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise invalid_parameter("Invalid PageToken") from error


# Tokens carry keys straight into SQL parameters; the MAC means only tokens Parley issued get there,
# so a forged or mangled one is a clean 400 rather than a type error deep in a query. It guards
# integrity, not secrecy: a token reveals nothing and grants nothing beyond the caller's own account.
# Its key derives from PARLEY_SECRET_KEY (not the source), so no one can mint one, and every replica
# accepts the others'; the shape is checked too, as a second line: what Parley issues is a page number and
# a key that is a scalar or a short flat list of scalars.
_MAX_PAGE = 10**9
_MAX_KEY_PARTS = 4


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_key(value: Any) -> bool:
    def scalar(part: Any) -> bool:
        return isinstance(part, str) or (_is_int(part) and abs(part) < 2**63)

    if value is None or scalar(value):
        return True
    return isinstance(value, list) and 0 < len(value) <= _MAX_KEY_PARTS and all(scalar(part) for part in value)


@dataclass(frozen=True)
class PageTokenKeys:
    """The first key signs, all are accepted: the keys derived from each key of PARLEY_SECRET_KEY, so a
    token issued before a key rotation still works while the old key is configured."""

    accepted: tuple[bytes, ...]

    @property
    def signing(self) -> bytes:
        return self.accepted[0]

    @classmethod
    def of(cls, box: SecretBox) -> PageTokenKeys:
        return cls(tuple(box.derived_keys("parley page token v2")))


_CURRENT_KEYS: ContextVar[PageTokenKeys] = ContextVar("page token keys")


def _keys() -> PageTokenKeys:
    try:
        return _CURRENT_KEYS.get()
    except LookupError:
        raise RuntimeError("page tokens are read and made inside a request of an app with page_tokens_keyed") from None


@contextmanager
def page_token_keys(keys: PageTokenKeys) -> Iterator[None]:
    """Page tokens made and read inside this block use `keys` (the middleware's job in a request)."""
    token = _CURRENT_KEYS.set(keys)
    try:
        yield
    finally:
        _CURRENT_KEYS.reset(token)


def page_tokens_keyed(app: FastAPI, keys: PageTokenKeys) -> None:
    """Every request of `app` makes and reads page tokens with `keys`: the deployment's, not a constant."""

    class PageTokenKeysMiddleware:
        def __init__(self, inner: ASGIApp) -> None:
            self.inner = inner

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            with page_token_keys(keys):
                await self.inner(scope, receive, send)

    app.add_middleware(PageTokenKeysMiddleware)


def _mac(key: bytes, encoded: str) -> str:
    digest = hmac.new(key, encoded.encode(), hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode()


def page_token(page: int, *, after: Any = None, before: Any = None) -> str:
    data = {"p": page, **({"a": after} if after is not None else {}), **({"b": before} if before is not None else {})}
    encoded = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"PT{encoded}.{_mac(_keys().signing, encoded)}"


def render_page(
    *,
    key: str,
    items: list[dict[str, Any]],
    keys: list[Any],
    request: PageRequest,
    has_more: bool,
    url: str,
    filters: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The list body: the items under `key` and Twilio's `meta` block.

    `items` and `keys` are in display order; `has_more` says whether a page follows in that order.
    """
    base = list(filters or [])

    def link(**extra: Any) -> str:
        params = [*base, ("PageSize", str(request.size)), *extra.items()]
        return f"{url}?{urlencode(params)}"

    # Paging forward, `has_more` is about the next page; paging back (a `before` token), about the previous.
    if request.before is None:
        has_next, has_previous = has_more, request.page > 0
    else:
        has_next, has_previous = True, has_more
    next_url = previous_url = None
    if items and has_next:
        next_url = link(Page=request.page + 1, PageToken=page_token(request.page + 1, after=keys[-1]))
    if items and has_previous:
        previous_url = link(Page=request.page - 1, PageToken=page_token(request.page - 1, before=keys[0]))
    current = link(Page=request.page) if request.page == 0 else link(
        Page=request.page, PageToken=page_token(request.page, after=request.after, before=request.before)
    )
    return {
        key: items,
        "meta": {
            "page": request.page,
            "page_size": request.size,
            "first_page_url": link(Page=0),
            "previous_page_url": previous_url,
            "url": current,
            "next_page_url": next_url,
            "key": key,
        },
    }



def page_slice(rows: Sequence[T], request: PageRequest) -> tuple[list[T], bool]:
    """The rows to show from `request.size + 1` fetched in display order, and whether a page follows:
    the extra row only says there is more (paging back it comes first, since those run the other way)."""
    has_more = len(rows) > request.size
    return list(rows[-request.size:] if request.before is not None else rows[: request.size]), has_more
