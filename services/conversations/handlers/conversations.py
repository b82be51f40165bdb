"""Conversation use cases: create, update, remove, state transitions (API, TIMER, EVENT) and the timer sweep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from services.conversations import render, store
from services.conversations.announce import Change, announce
from services.conversations.domain.models import Conversation
from services.conversations.domain.states import due_times
from services.conversations.domain.webhook_fields import conversation_fields, removed, state_fields
from shared.contracts import conversations as events
from shared.errors import TwilioError


@dataclass(frozen=True)
class Action:
    """Who acts and how it is announced: REST actions fire webhooks only with X-Twilio-Webhook-Enabled."""

    base: str  # the public base URL, for the URLs inside events
    source: str = "API"
    webhooks: bool = True
    timer_scale: float = 1.0
    correlation_id: str | None = None
    client_identity: str | None = None  # the chat user acting (SDK actions)


def closed_error(conversation: Conversation) -> TwilioError:
    return TwilioError(400, 50377, f"Conversation {conversation.sid} is in the final closed state and can't be changed")


async def create_conversation(
    conn: store.Connection, *, account_sid: str, chat_service_sid: str, values: dict[str, Any], action: Action,
) -> Conversation:
    values = dict(values)
    now = datetime.now(UTC)
    state = values.setdefault("state", "active")
    config = await store.get_account_configuration(conn, account_sid=account_sid)
    if "timer_inactive" not in values and config.default_inactive_timer:
        values["timer_inactive"] = config.default_inactive_timer
    if "timer_closed" not in values and config.default_closed_timer:
        values["timer_closed"] = config.default_closed_timer
    values["date_inactive"], values["date_closed"] = due_times(
        state=state, now=now, inactive=values.get("timer_inactive"), closed=values.get("timer_closed"),
        scale=action.timer_scale,
    )
    conversation = await store.insert_conversation(
        conn, account_sid=account_sid, chat_service_sid=chat_service_sid, **values,
    )
    await announce(conn, account_sid=account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.CONVERSATION_ADDED, webhook_event="onConversationAdded",
        resource=render.conversation(conversation, render.Root(action.base)),
        fields=conversation_fields(conversation, None),
        source=action.source, client_identity=action.client_identity, fires_webhooks=action.webhooks,
    ), chat_service_sid=chat_service_sid, correlation_id=action.correlation_id)
    return conversation


async def update_conversation(
    conn: store.Connection, *, conversation: Conversation, values: dict[str, Any], action: Action
) -> Conversation:
    """Apply the changed fields; a new State is a transition (Reason API); new timers count from now."""
    wanted_state = values.pop("state", None)
    if conversation.state == "closed" and (values or wanted_state not in (None, "closed")):
        raise closed_error(conversation)
    updated = conversation
    if "timer_inactive" in values or "timer_closed" in values:
        inactive = values.get("timer_inactive", conversation.timer_inactive)
        closed = values.get("timer_closed", conversation.timer_closed)
        values["date_inactive"], values["date_closed"] = due_times(
            state=wanted_state or conversation.state, now=datetime.now(UTC), inactive=inactive, closed=closed,
            scale=action.timer_scale,
        )
    if values:
        updated = await store.update_conversation(conn, sid=conversation.sid, values=values)
        await announce(conn, account_sid=updated.account_sid, conversation_sid=updated.sid, change=Change(
            event=events.CONVERSATION_UPDATED, webhook_event="onConversationUpdated",
            resource=render.conversation(updated, render.Root(action.base)),
            fields=conversation_fields(updated, None),
            source=action.source, client_identity=action.client_identity, fires_webhooks=action.webhooks,
        ), chat_service_sid=updated.chat_service_sid, correlation_id=action.correlation_id)
    if wanted_state is not None and wanted_state != updated.state:
        updated = await change_state(conn, conversation=updated, state=wanted_state, reason="API", action=action)
    return updated


async def change_state(
    conn: store.Connection, *, conversation: Conversation, state: str, reason: str, action: Action
) -> Conversation:
    """One transition, announced as onConversationStateUpdated; timers start over in the new state."""
    if conversation.state == "closed":
        raise closed_error(conversation)
    date_inactive, date_closed = due_times(
        state=state, now=datetime.now(UTC), inactive=conversation.timer_inactive, closed=conversation.timer_closed,
        scale=action.timer_scale,
    )
    if reason == "TIMER" and state == "inactive":
        date_closed = conversation.date_closed  # the closed timer keeps counting from the last activity
    updated = await store.set_conversation_state(
        conn, sid=conversation.sid, state=state, date_inactive=date_inactive, date_closed=date_closed
    )
    await announce(conn, account_sid=updated.account_sid, conversation_sid=updated.sid, change=Change(
        event=events.CONVERSATION_STATE_UPDATED, webhook_event="onConversationStateUpdated",
        resource=render.conversation(updated, render.Root(action.base)),
        fields=state_fields(updated, state_from=conversation.state, reason=reason),
        source=action.source, client_identity=action.client_identity,
        fires_webhooks=action.webhooks, previous_state=conversation.state, reason=reason,
    ), chat_service_sid=updated.chat_service_sid, correlation_id=action.correlation_id)
    return updated


async def reactivate(conn: store.Connection, *, conversation: Conversation, action: Action) -> Conversation:
    """A new message wakes an inactive conversation (Reason EVENT)."""
    if conversation.state != "inactive":
        return conversation
    return await change_state(conn, conversation=conversation, state="active", reason="EVENT", action=action)


async def remove_conversation(conn: store.Connection, *, conversation: Conversation, action: Action) -> None:
    """Announced before the row goes, so the conversation's own webhooks still hear of it."""
    await announce(conn, account_sid=conversation.account_sid, conversation_sid=conversation.sid, change=Change(
        event=events.CONVERSATION_REMOVED, webhook_event="onConversationRemoved",
        resource=render.conversation(conversation, render.Root(action.base)),
        fields=removed(conversation_fields(conversation, None), datetime.now(UTC)),
        source=action.source, client_identity=action.client_identity,
        fires_webhooks=action.webhooks,
    ), chat_service_sid=conversation.chat_service_sid, correlation_id=action.correlation_id)
    await store.delete_conversation(conn, sid=conversation.sid)


async def expire_due_timers(conn: store.Connection, *, action: Action, limit: int = 100) -> int:
    """Move every conversation whose timer is due (locked, so one instance handles each); returns how many."""
    due = await store.claim_due_conversations(conn, limit=limit)
    now = datetime.now(UTC) + timedelta(milliseconds=1)
    for conversation in due:
        closing = conversation.date_closed is not None and conversation.date_closed <= now
        await change_state(conn, conversation=conversation, state="closed" if closing else "inactive", reason="TIMER",
                           action=action)
    return len(due)
