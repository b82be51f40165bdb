"""What the conversations service consumes: queue → handler."""

from __future__ import annotations

from typing import Any

from services.conversations import handlers, store
from shared.broker.consumer import Consumer
from shared.broker.topology import CONVERSATIONS_INBOUND
from shared.contracts.envelope import Envelope
from shared.contracts.ingress import InboundMessage
from shared.settings import Settings


def consumers(settings: Settings) -> list[Consumer]:
    base = settings.external_base_url()

    async def on_inbound_message(conn: store.Connection, envelope: Envelope[Any]) -> None:
        await handlers.receive_inbound_message(conn, envelope, base=base, timer_scale=settings.conversation_timer_scale)

    return [Consumer(queue=CONVERSATIONS_INBOUND, payload=InboundMessage, handler=on_inbound_message)]
