"""X-Twilio-Signature: HMAC-SHA1 over the URL and the sorted form parameters, keyed by an auth token."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlencode, urlsplit, urlunsplit


def twilio_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """Signature of a form POST (or, with no params, of a GET or a bodySHA256 URL)."""
    # Validators (twilio-python, twilio-node) sort and de-duplicate repeated values; so do we.
    data = url + "".join(key + value for key, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def is_valid_twilio_signature(
    url: str, params: Iterable[tuple[str, str]], auth_token: str, signature: str | None
) -> bool:
    if not signature:
        return False
    pairs = list(params)
    # Providers disagree on whether a default port is part of the signed URL; accept both forms.
    candidates = {url, _with_default_port(url), _without_default_port(url)}
    return any(
        hmac.compare_digest(twilio_signature(candidate, pairs, auth_token), signature) for candidate in candidates
    )


def json_body_url(url: str, body: bytes) -> str:
    """The URL a JSON body is signed under: the original plus `bodySHA256=<hex sha256 of the body>`."""
    parts = urlsplit(url)
    extra = urlencode({"bodySHA256": hashlib.sha256(body).hexdigest()})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _with_default_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is not None or not parts.hostname:
        return url
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{_default_port(parts.scheme)}"))


def _without_default_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port != _default_port(parts.scheme):
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]))
