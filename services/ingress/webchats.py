"""Web-chat guests: ask the conversations service to start a chat and wait for its answer (request-reply)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pydantic import ValidationError

from services.ingress.event_feed import EventFeed
from shared.broker.connection import Broker
from shared.broker.topology import COMMANDS
from shared.contracts.envelope import Envelope
from shared.contracts.webchat import START_WEB_CHAT, WEB_CHAT_STARTED, StartWebChat, WebChatStarted
from shared.errors import TwilioError

ANSWER_TIMEOUT_SECONDS = 10.0


def no_answer() -> TwilioError:
    return TwilioError(504, 20504, "The conversations service did not answer in time; the chat may not exist, retry")


class WebChatRequests:
    """The requests this replica is waiting on, by request id; answers for other replicas are ignored."""

    def __init__(self, broker: Broker, feed: EventFeed) -> None:
        self._broker = broker
        self._feed = feed
        self._waiting: dict[uuid.UUID, asyncio.Future[WebChatStarted]] = {}
        feed.listen(self._on_event)

    async def start(self, *, account_sid: str, request: StartWebChat,
                    timeout: float = ANSWER_TIMEOUT_SECONDS) -> WebChatStarted:
        """The answer, or a 504 when none came in time; a refused request raises its Twilio error."""
        await self._feed.ready()
        answer: asyncio.Future[WebChatStarted] = asyncio.get_running_loop().create_future()
        self._waiting[request.request_id] = answer
        try:
            envelope = Envelope[StartWebChat](type=START_WEB_CHAT, account_sid=account_sid, payload=request,
                                              correlation_id=str(request.request_id))
            await self._broker.publish(COMMANDS, START_WEB_CHAT, envelope.to_bytes(),
                                       message_id=str(envelope.message_id))
            try:
                started = await asyncio.wait_for(answer, timeout)
            except TimeoutError as error:
                raise no_answer() from error
        finally:
            self._waiting.pop(request.request_id, None)
        if started.error_code is not None:
            raise TwilioError(started.error_status or 400, started.error_code, started.error_message or "Refused")
        return started

    async def _on_event(self, envelope: dict[str, Any]) -> None:
        if envelope.get("type") != WEB_CHAT_STARTED:
            return
        try:
            started = WebChatStarted.model_validate(envelope.get("payload"))
        except ValidationError:
            return
        waiting = self._waiting.get(started.request_id)
        if waiting is not None and not waiting.done():
            waiting.set_result(started)
