"""What the ingress service consumes: queue → handler."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from services.ingress import handlers
from shared.broker.consumer import Consumer
from shared.broker.topology import INGRESS_REALTIME, INGRESS_SENDS, INGRESS_STATUSES
from shared.contracts.channels import OutboundMessage, ProviderStatusReport
from shared.contracts.conversations import ResourceEvent
from shared.contracts.envelope import Envelope
from shared.settings import Settings


def conversation_thread(envelope: Envelope[Any]) -> Hashable:
    """Sends between one pair of addresses are recorded, hence sent, in the order they were commanded."""
    command: OutboundMessage = envelope.payload
    return (envelope.account_sid, command.from_address, command.to_address)


def conversation_of(envelope: Envelope[Any]) -> Hashable:
    """One conversation's events are logged (and announced) in the order conversations published them."""
    event: ResourceEvent = envelope.payload
    return event.resource.get("conversation_sid") or event.resource.get("sid")  # the conversation's own events


def sent_message_of(envelope: Envelope[Any]) -> Hashable:
    """One sent message's statuses are recorded in the order the provider reported them."""
    report: ProviderStatusReport = envelope.payload
    return (report.provider_sid, report.channel_message_sid)


def consumers(settings: Settings) -> list[Consumer]:
    return [
        Consumer(queue=INGRESS_SENDS, payload=OutboundMessage, handler=handlers.record_send,
                 sequence_by=conversation_thread),
        Consumer(queue=INGRESS_STATUSES, payload=ProviderStatusReport, handler=handlers.record_status_callback,
                 sequence_by=sent_message_of),
        Consumer(queue=INGRESS_REALTIME, payload=ResourceEvent, handler=handlers.log_conversation_event,
                 sequence_by=conversation_of),
    ]
