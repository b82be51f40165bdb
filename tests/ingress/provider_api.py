"""Fake provider REST APIs on 127.0.0.1: Twilio's Messages.json (and Meta's Graph messages endpoint)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import JSONResponse, Response

from shared.broker.topology import COMMANDS
from shared.contracts.channels import SEND_MESSAGE, OutboundMedia, OutboundMessage
from shared.contracts.envelope import Envelope
from shared.sids import new_sid
from tests.support.parley import RunningParley
from tests.support.receiver import ReceivedRequest, Receiver


@dataclass
class Arrival:
    at: float  # time.monotonic() when the request reached the fake
    request: ReceivedRequest
    status: int
    sid: str | None = None  # the provider's id of the message, when it took it


@dataclass
class FakeProviderApi:
    """Answers each send 201 with a fresh `sid` (or `sid_for` decides it), after the scripted `failures`."""

    receiver: Receiver
    failures: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    sid_for: Callable[[ReceivedRequest], str] = lambda _: "SM" + uuid.uuid4().hex
    meta: bool = False

    def __post_init__(self) -> None:
        self.receiver.responder = self._respond

    @property
    def url(self) -> str:
        return self.receiver.url

    def _respond(self, request: ReceivedRequest) -> Response:
        if self.failures:
            status, body = self.failures.pop(0)
            self.arrivals.append(Arrival(time.monotonic(), request, status))
            return JSONResponse(body, status_code=status)
        sid = self.sid_for(request)
        self.arrivals.append(Arrival(time.monotonic(), request, 201 if not self.meta else 200, sid))
        if self.meta:
            return JSONResponse({"messaging_product": "whatsapp", "contacts": [], "messages": [{"id": sid}]})
        return JSONResponse({"sid": sid, "status": "queued"}, status_code=201)

    def accepted(self, where: Callable[[ReceivedRequest], bool] = lambda _: True) -> list[ReceivedRequest]:
        return [arrival.request for arrival in self.arrivals if arrival.status < 300 and where(arrival.request)]

    def sids(self) -> list[str]:
        """The ids the fake gave the sends it took, in arrival order."""
        return [arrival.sid for arrival in self.arrivals if arrival.sid is not None]

    async def wait_for(self, count: int, *, timeout: float = 20.0,
                       where: Callable[[ReceivedRequest], bool] = lambda _: True) -> list[ReceivedRequest]:
        return await self.receiver.wait_for(count, timeout=timeout, where=where)

    async def wait_for_attempts(self, count: int, *, timeout: float = 20.0) -> list[Arrival]:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"the fake provider saw {len(self.arrivals)} requests, expected {count}")
            await asyncio.sleep(0.02)
        return self.arrivals


def send_command(*, from_address: str, to_address: str, body: str = "Hello from an agent",
                 media_urls: tuple[str, ...] = (), content_sid: str | None = None,
                 message_sid: str | None = None, participant_sid: str | None = None) -> OutboundMessage:
    return OutboundMessage(
        conversation_sid=new_sid("CH"), message_sid=message_sid or new_sid("IM"),
        participant_sid=participant_sid or new_sid("MB"),
        channel="whatsapp" if to_address.startswith("whatsapp:") else "sms",
        from_address=from_address, to_address=to_address, body=body,
        media=[OutboundMedia(url=url, content_type="image/jpeg") for url in media_urls], content_sid=content_sid,
    )


async def publish_send(ingress: RunningParley, command: OutboundMessage,
                       envelope: Envelope[OutboundMessage] | None = None) -> Envelope[OutboundMessage]:
    """What the conversations service does for an agent's reply: a `channel.send` command on parley.commands."""
    envelope = envelope or Envelope[OutboundMessage](type=SEND_MESSAGE, account_sid=ingress.account.sid,
                                                     payload=command)
    await ingress.runtime.broker.publish(COMMANDS, SEND_MESSAGE, envelope.to_bytes(),
                                         message_id=str(envelope.message_id))
    return envelope
