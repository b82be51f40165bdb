"""Read horizons from realtime clients: `realtime.read_horizon` (published by ingress when a chat participant
reads up to a message index) stored as that participant's `last_read_message_index`.

A horizon only moves forward: updates may arrive out of order (several sockets, redeliveries), and the
highest index read is the truth. Setting it back stays possible through the REST API.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.broker.consumer import Consumer
from shared.broker.topology import CONVERSATIONS_READ_HORIZONS
from shared.contracts.envelope import Envelope
from shared.contracts.realtime import ReadHorizonUpdate


def read_horizons_consumer() -> Consumer:
    return Consumer(queue=CONVERSATIONS_READ_HORIZONS, payload=ReadHorizonUpdate, handler=record_read_horizon,
                    sequence_by=lambda envelope: (envelope.payload.conversation_sid, envelope.payload.identity))


async def record_read_horizon(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
    """The participant of that identity in that conversation of the account; an unknown one is ignored (it may
    have left meanwhile), as is an index beyond the conversation's last message."""
    update: ReadHorizonUpdate = envelope.payload
    await conn.execute(
        "UPDATE participants p SET last_read_message_index = $4, last_read_timestamp = $5, date_updated = now() "
        "FROM conversations c WHERE c.sid = p.conversation_sid AND p.account_sid = $1 AND p.conversation_sid = $2 "
        "AND p.identity = $3 AND (p.last_read_message_index IS NULL OR p.last_read_message_index < $4) "
        "AND $4 <= c.last_message_index",
        envelope.account_sid, update.conversation_sid, update.identity, update.last_read_message_index,
        envelope.occurred_at,
    )
