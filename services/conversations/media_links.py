"""Signed, expiring download URLs for media (`links.content_direct_temporary`), keyed by the account's token."""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from services.conversations.domain.identity import Media


def signature(auth_token: str, media: Media, expires: int) -> str:
    message = f"{media.chat_service_sid}/{media.sid}/{expires}".encode()
    return hmac.new(auth_token.encode(), message, hashlib.sha256).hexdigest()


def temporary_url(base: str, media: Media, auth_token: str, *, lifetime_seconds: float) -> str:
    expires = math.ceil(time.time() + lifetime_seconds)
    return (f"{base}/mcs/v1/Services/{media.chat_service_sid}/Media/{media.sid}/Content/Direct"
            f"?Expires={expires}&Signature={signature(auth_token, media, expires)}")
