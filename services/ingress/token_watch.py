"""Closes the WebSockets of this replica whose tokens were revoked since they connected.

An agent deleted or changed, or a signing key deleted, in whichever process: every interval the tokens of the
open sockets are checked again against the accounts schema, in bulk and uncached (shared/auth/revocation.py),
and each refused one is told why (an error with code 20101) and closed with 4001.
"""

from __future__ import annotations

import asyncio
import logging

from services.ingress.realtime import CLOSE_UNAUTHORIZED, Client, Closing
from shared.access_tokens import VerifiedToken
from shared.auth.revocation import Revocations

log = logging.getLogger(__name__)


class TokenWatch:
    def __init__(self, revocations: Revocations, *, interval_seconds: float) -> None:
        self._revocations = revocations
        self._interval_seconds = interval_seconds
        self._watched: dict[Client, VerifiedToken] = {}

    def watch(self, client: Client, token: VerifiedToken) -> None:
        self._watched[client] = token

    def unwatch(self, client: Client) -> None:
        self._watched.pop(client, None)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_seconds)
            await self.close_revoked()

    async def close_revoked(self) -> int:
        """Close every watched socket whose token is refused now; how many were closed."""
        watched = list(self._watched.items())
        if not watched:
            return 0
        refused = await self._revocations.refused([token for _, token in watched])
        for position, error in refused.items():
            client, token = watched[position]
            self._watched.pop(client, None)
            client.close(Closing(CLOSE_UNAUTHORIZED, {"type": "error", **error.body()}))
            log.info("closed a realtime connection: its token was revoked",
                     extra={"account_sid": client.account_sid, "key_sid": token.key_sid, "reason": error.message})
        return len(refused)
