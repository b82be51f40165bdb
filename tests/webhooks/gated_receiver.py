"""Webhook endpoints that hold requests: until the test opens a gate (a slow endpoint, made deterministic), or
without end (a hanging one)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from tests.support.receiver import ReceivedRequest, Receiver


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


@dataclass
class HangingReceiver(Receiver):
    """Takes its first `hangs` requests (they are in `attempts`) and does not answer them until it stops: an
    endpoint that hangs, whose caller may die waiting. Later requests are answered as a Receiver answers."""

    hangs: int = 1
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def _before_answering(self, received: ReceivedRequest) -> None:
        if len(self.attempts) <= self.hangs:
            await self._stopping.wait()

    async def stop(self) -> None:
        self._stopping.set()
        await super().stop()
