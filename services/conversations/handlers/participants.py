"""Participant use cases: join (claiming an address pair), update, leave (releasing it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.conversations import render, store
from services.conversations.announce import Change, announce
from services.conversations.domain.models import Conversation, Participant
from services.conversations.domain.webhook_fields import participant_fields, removed
from services.conversations.handlers.conversations import Action, closed_error
from shared.contracts import conversations as events
from shared.errors import TwilioError


def pair_in_use(address: str | None, proxy_address: str | None) -> TwilioError:
    return TwilioError(409, 50425, f"A participant with address {address} and proxy address {proxy_address} "
                                   "is already in another active conversation")


def identity_in_use(identity: str | None) -> TwilioError:
    return TwilioError(409, 50433, f"Participant with identity {identity} already exists in this conversation")


async def add_participant(
    conn: store.Connection, *, conversation: Conversation, values: dict[str, Any], action: Action
) -> Participant:
    if conversation.state == "closed":
        raise closed_error(conversation)
    try:
        participant = await store.insert_participant(
            conn, account_sid=conversation.account_sid, conversation_sid=conversation.sid, **values
        )
    except store.PairInUse as error:
        raise pair_in_use(values.get("address"), values.get("proxy_address")) from error
    except store.IdentityInUse as error:
        raise identity_in_use(values.get("identity")) from error
    await announce(conn, account_sid=conversation.account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.PARTICIPANT_ADDED, webhook_event="onParticipantAdded",
        resource=render.participant(participant, render.Root(action.base)),
        fields=participant_fields(participant, conversation),
        source=action.source, client_identity=action.client_identity, fires_webhooks=action.webhooks,
    ), chat_service_sid=conversation.chat_service_sid, correlation_id=action.correlation_id)
    return participant


async def update_participant(
    conn: store.Connection, *, conversation: Conversation, participant: Participant, values: dict[str, Any],
    action: Action,
) -> Participant:
    if not values:
        return participant
    try:
        updated = await store.update_participant(
            conn, participant=participant, values=values, conversation_open=conversation.state != "closed"
        )
    except store.PairInUse as error:
        raise pair_in_use(participant.address, values.get("proxy_address")) from error
    except store.IdentityInUse as error:
        raise identity_in_use(values.get("identity")) from error
    await announce(conn, account_sid=conversation.account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.PARTICIPANT_UPDATED, webhook_event="onParticipantUpdated",
        resource=render.participant(updated, render.Root(action.base)),
        fields=participant_fields(updated, conversation),
        source=action.source, client_identity=action.client_identity, fires_webhooks=action.webhooks,
    ), chat_service_sid=conversation.chat_service_sid, correlation_id=action.correlation_id)
    return updated


async def remove_participant(
    conn: store.Connection, *, conversation: Conversation, participant: Participant, action: Action
) -> None:
    await store.delete_participant(conn, sid=participant.sid)
    await announce(conn, account_sid=conversation.account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.PARTICIPANT_REMOVED, webhook_event="onParticipantRemoved",
        resource=render.participant(participant, render.Root(action.base)),
        fields=removed(participant_fields(participant, conversation), datetime.now(UTC)),
        source=action.source, client_identity=action.client_identity,
        fires_webhooks=action.webhooks,
    ), chat_service_sid=conversation.chat_service_sid, correlation_id=action.correlation_id)
