"""What the conversations service consumes: queue → handler."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.conversations import handlers, store
from services.conversations.handlers.inbound import InboundPlan, pair_key, prepare_inbound
from services.conversations.handlers.messages import receive_receipt_report
from services.conversations.pre_events import PreEvents
from shared.broker.consumer import Consumer, PreparedConsumer
from shared.broker.topology import CONVERSATIONS_INBOUND, CONVERSATIONS_RECEIPTS
from shared.contracts.channels import DeliveryReceiptReport
from shared.contracts.envelope import Envelope
from shared.contracts.ingress import InboundMessage
from shared.settings import Settings


def consumers(settings: Settings, *, pool: asyncpg.Pool, pre_events: PreEvents) -> list[Consumer]:
    base = settings.external_base_url()

    async def prepare_inbound_message(envelope: Envelope[Any]) -> InboundPlan:
        return await prepare_inbound(pool, pre_events, envelope)

    async def on_inbound_message(conn: store.Connection, envelope: Envelope[Any], plan: InboundPlan) -> None:
        await handlers.receive_inbound_message(conn, envelope, base=base, timer_scale=settings.conversation_timer_scale,
                                               plan=plan)

    async def on_receipt_report(conn: store.Connection, envelope: Envelope[Any]) -> None:
        await receive_receipt_report(conn, envelope, base=base)

    return [
        # The pre-event webhook is asked before the transaction; a pair's messages keep their order meanwhile.
        PreparedConsumer(queue=CONVERSATIONS_INBOUND, payload=InboundMessage, prepare=prepare_inbound_message,
                         prepared_handler=on_inbound_message, sequence_by=pair_key),
        # One message's reports in the order the provider sent them; stale ones are ignored anyway.
        Consumer(queue=CONVERSATIONS_RECEIPTS, payload=DeliveryReceiptReport, handler=on_receipt_report,
                 sequence_by=lambda envelope: envelope.payload.message_sid),
    ]
