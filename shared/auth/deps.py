"""FastAPI dependencies that authenticate a request: account credentials (HTTP Basic), or an access token.

`Depends(authenticator)` accepts account credentials only: every route stays account-only unless it
opts in with `Depends(authenticator.principal)`, which also takes a Twilio-format access token in
`X-Twilio-Token` (what Twilio's SDKs send) or `Authorization: Bearer <jwt>`.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import Request

from shared import access_tokens
from shared.auth.accounts import Account, AccountDirectory
from shared.auth.principal import Principal, TokenHolder
from shared.auth.revocation import Revocations
from shared.auth.throttle import BASIC, GuessThrottle
from shared.errors import TwilioError, unauthorized

TOKEN_HEADER = "x-twilio-token"
# Twilio's challenge: clients that send credentials only when challenged (urllib's HTTPBasicAuthHandler,
# curl --anyauth) need it. Token requests and the desk's sign-in never get it: Chromium would answer a
# Basic challenge with its own login dialog.
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Twilio API"'}


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


def presented_token(request: Request) -> str | None:
    """The access token of `X-Twilio-Token`, else of `Authorization: Bearer`."""
    if token := request.headers.get(TOKEN_HEADER, "").strip():
        return token
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def basic_unauthorized() -> TwilioError:
    """401 20003 for a request that carried Basic credentials or none, with the Basic challenge."""
    error = unauthorized()
    error.headers = dict(BASIC_CHALLENGE)
    return error


def tokens_not_accepted() -> TwilioError:
    return TwilioError(403, 20403, "Forbidden: this resource requires account credentials (Account SID or API key "
                                   "and secret); an access token does not grant it")


def not_permitted(message: str = "The access token does not permit this action") -> TwilioError:
    return TwilioError(403, 20403, f"Forbidden: {message}")


class Authenticator:
    """`Depends(authenticator)` yields the authenticated Account or answers 401 (20003); a valid access token
    there answers 403 (20403). `Depends(authenticator.principal)` yields a Principal: the account, or a token's
    holder (an invalid token: 401 20101, expired: 401 20104; so is a revoked one: shared/auth/revocation.py)."""

    def __init__(self, directory: AccountDirectory, *, throttle: GuessThrottle, token_cache_seconds: float = 2.0) -> None:
        self.directory = directory
        self.throttle = throttle
        self.revocations = Revocations(directory, cache_seconds=token_cache_seconds)

    async def verify_token(self, token: str) -> tuple[access_tokens.VerifiedToken, Account]:
        """The token's claims and account, once it is valid, its account active and it is not revoked.

        Raises AccessTokenRefused. Every route and socket that accepts tokens goes through here."""
        verified = await access_tokens.verify(token, self.directory.get_key)
        account = await self.directory.get(verified.account_sid)
        if account is None or account.status != "active":
            raise access_tokens.invalid_token("the account is not active")
        await self.revocations.check(verified)
        return verified, account

    async def __call__(self, request: Request) -> Account:
        credentials = basic_credentials(request)
        if credentials is None:
            if (token := presented_token(request)) is not None:
                await self._holder(request, token)  # a bad token is told as such, a good one is out of scope
                raise tokens_not_accepted()
            raise basic_unauthorized()
        # An address guessing credentials is throttled (429 20429), whoever it names: shared/auth/throttle.py.
        account = await self.throttle.attempt(request, scope=BASIC, credential=credentials[0],
                                              check=lambda: self.directory.verify(*credentials))
        if account is None:
            raise basic_unauthorized()
        request.state.account_sid = account.sid
        return account

    async def principal(self, request: Request) -> Principal:
        if basic_credentials(request) is not None:
            return Principal(account=await self(request))
        token = presented_token(request)
        if token is None:
            raise basic_unauthorized()
        holder, account = await self._holder(request, token)
        return Principal(account=account, token=holder)

    async def _holder(self, request: Request, token: str) -> tuple[TokenHolder, Account]:
        verified, account = await self.verify_token(token)
        request.state.account_sid = account.sid
        return TokenHolder.of(verified), account
