"""User use cases: add, update, remove, each announced (onUserAdded / onUserUpdated) through the outbox."""

from __future__ import annotations

from typing import Any

from services.conversations.announce import Change, announce
from services.conversations.domain.identity import User, user_fields
from services.conversations.handlers.conversations import Action
from services.conversations.render import Root
from services.conversations.render import identity as render
from services.conversations.store import identity as store
from shared.contracts import conversations as events


async def add_user(conn: store.Connection, *, account_sid: str, chat_service_sid: str, identity: str,
                   values: dict[str, Any], action: Action) -> User:
    user = await store.insert_user(conn, account_sid=account_sid, chat_service_sid=chat_service_sid, identity=identity,
                                   values=values)
    await _announce(conn, user, event=events.USER_ADDED, webhook_event="onUserAdded", action=action)
    return user


async def update_user(conn: store.Connection, *, user: User, values: dict[str, Any], action: Action) -> User:
    if not values:
        return user
    updated = await store.update_user(conn, sid=user.sid, values=values)
    await _announce(conn, updated, event=events.USER_UPDATED, webhook_event="onUserUpdated", action=action)
    return updated


async def remove_user(conn: store.Connection, *, user: User, action: Action) -> None:
    """Twilio has no webhook for a removed user; the broker event still tells other services."""
    await store.delete_user(conn, sid=user.sid)
    await _announce(conn, user, event=events.USER_REMOVED, webhook_event="onUserRemoved", action=action, webhooks=False)


async def _announce(conn: store.Connection, user: User, *, event: str, webhook_event: str, action: Action,
                    webhooks: bool = True) -> None:
    await announce(conn, account_sid=user.account_sid, conversation_sid=None, change=Change(
        event=event, webhook_event=webhook_event,
        resource=render.user(user, Root(action.base, user.chat_service_sid)),
        fields=user_fields(user, updated=webhook_event != "onUserAdded"), source=action.source,
        fires_webhooks=action.webhooks and webhooks,
    ), chat_service_sid=user.chat_service_sid, correlation_id=action.correlation_id)
