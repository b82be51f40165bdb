"""A webhook endpoint that holds every request until the test opens its gate: a slow endpoint, made deterministic."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from tests.support.receiver import Receiver


@dataclass
class GatedReceiver(Receiver):
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0  # requests held right now
    most_waiting: int = 0  # the most ever held at once

    async def _handle(self, request: Request) -> Response:
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        try:
            await self.gate.wait()
        finally:
            self.waiting -= 1
        return await super()._handle(request)
