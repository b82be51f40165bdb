"""Twilio's paging (`PageSize`, `Page`, `PageToken`, the `meta` block) on keyset queries.

A token carries the last key seen and the page number, so page 1,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

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
    size = form.int("PageSize", minimum=1) or default_size
    size = min(size, max_size)
    token = form.str("PageToken")
    if not token:
        return PageRequest(size=size, page=0)
    try:
        encoded, _, mac = token.removeprefix("PT").partition(".")
        if not hmac.compare_digest(mac, _mac(encoded)):
            raise ValueError("tampered")
        decoded = json.loads(base64.urlsafe_b64decode(encoded + "==").decode())
        page = int(decoded["p"])
        return PageRequest(size=size, page=page, after=decoded.get("a"), before=decoded.get("b"))
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise invalid_parameter("Invalid PageToken") from error


# Tokens carry keys straight into SQL parameters; the MAC means only tokens Parley issued get there,
# so a forged or mangled one is a clean 400 rather than a type error deep in a query. It guards
# integrity, not secrecy: a token reveals nothing and grants nothing beyond the caller's own account.
_TOKEN_KEY = b"parley page token v1"


def _mac(encoded: str) -> str:
    digest = hmac.new(_TOKEN_KEY, encoded.encode(), hashlib.sha256).digest()[:9]
    return base64.urlsafe_b64encode(digest).decode()


def page_token(page: int, *, after: Any = None, before: Any = None) -> str:
    data = {"p": page, **({"a": after} if after is not None else {}), **({"b": before} if before is not None else {})}
    encoded = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"PT{encoded}.{_mac(encoded)}"


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
