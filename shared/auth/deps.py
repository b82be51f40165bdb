"""The FastAPI dependency that turns HTTP Basic credentials into the calling account."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request

from shared.auth.accounts import Account, AccountDirectory
from shared.errors import unauthorized


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


class Authenticator:
    """`Depends(authenticator)` yields the authenticated Account or answers 401 (20003)."""

    def __init__(self, directory: AccountDirectory) -> None:
        self.directory = directory

    async def __call__(self, request: Request) -> Account:
        credentials = basic_credentials(request)
        if credentials is None:
            raise unauthorized()
        account = await self.directory.verify(*credentials)
        if account is None:
            raise unauthorized()
        request.state.account_sid = account.sid
        return account
