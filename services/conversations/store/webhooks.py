"""Webhook configuration at its three levels: conversation-scoped hooks, the service's, the account's."""

from __future__ import annotations

from typing import Any

from services.conversations.domain.models import AccountConfiguration, ScopedWebhook, ServiceWebhookConfiguration
from services.conversations.store.base import Connection, build, deleted_one
from shared.sids import new_sid

_WEBHOOK_COLUMNS = (
    "sid, account_sid, conversation_sid, target, url, method, filters, triggers, flow_sid, origin, "
    "date_created, date_updated, replay_after"
)
WEBHOOK_WRITABLE = ("url", "method", "filters", "triggers", "flow_sid", "replay_after")


async def insert_scoped_webhook(
    conn: Connection, *, account_sid: str, conversation_sid: str, target: str, url: str | None = None,
    method: str | None = None, filters: list[str] | None = None, triggers: list[str] | None = None,
    flow_sid: str | None = None, replay_after: int | None = None, origin: str = "api",
) -> ScopedWebhook:
    row = await conn.fetchrow(
        f"INSERT INTO conversation_webhooks (sid, account_sid, conversation_sid, target, url, method, filters, triggers, "
        f"flow_sid, replay_after, origin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
        f"RETURNING {_WEBHOOK_COLUMNS}",
        new_sid("WH"), account_sid, conversation_sid, target, url, method, filters or [], triggers or [], flow_sid,
        replay_after, origin,
    )
    return build(ScopedWebhook, row)  # type: ignore[no-any-return]


async def list_scoped_webhooks(
    conn: Connection, *, conversation_sid: str, after: str | None = None, limit: int | None = None
) -> list[ScopedWebhook]:
    rows = await conn.fetch(
        f"SELECT {_WEBHOOK_COLUMNS} FROM conversation_webhooks WHERE conversation_sid = $1 "
        f"AND ($2::text IS NULL OR sid > $2) ORDER BY sid LIMIT $3",
        conversation_sid, after, limit,
    )
    return [build(ScopedWebhook, row) for row in rows]


async def count_scoped_webhooks(conn: Connection, *, conversation_sid: str) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM conversation_webhooks WHERE conversation_sid = $1 AND origin = 'api'", conversation_sid
    ))


async def get_scoped_webhook(conn: Connection, *, conversation_sid: str, sid: str) -> ScopedWebhook | None:
    row = await conn.fetchrow(
        f"SELECT {_WEBHOOK_COLUMNS} FROM conversation_webhooks WHERE conversation_sid = $1 AND sid = $2",
        conversation_sid, sid,
    )
    return build(ScopedWebhook, row)  # type: ignore[no-any-return]


async def update_scoped_webhook(conn: Connection, *, sid: str, values: dict[str, Any]) -> ScopedWebhook:
    assert set(values) <= set(WEBHOOK_WRITABLE), values
    assignments = [f"{column} = ${n}" for n, column in enumerate(values, start=2)]
    row = await conn.fetchrow(
        f"UPDATE conversation_webhooks SET {', '.join([*assignments, 'date_updated = now()'])} WHERE sid = $1 "
        f"RETURNING {_WEBHOOK_COLUMNS}",
        sid, *values.values(),
    )
    return build(ScopedWebhook, row)  # type: ignore[no-any-return]


async def delete_scoped_webhook(conn: Connection, *, sid: str) -> bool:
    return deleted_one(await conn.execute("DELETE FROM conversation_webhooks WHERE sid = $1", sid))


# The account's Configuration and Configuration/Webhooks -------------------------------------------

_ACCOUNT_COLUMNS = (
    "account_sid, default_messaging_service_sid, default_inactive_timer, default_closed_timer, webhook_method, "
    "webhook_filters, pre_webhook_url, post_webhook_url, webhook_target"
)
ACCOUNT_WRITABLE = tuple(_ACCOUNT_COLUMNS.split(", ")[1:])


async def get_account_configuration(conn: Connection, *, account_sid: str) -> AccountConfiguration:
    row = await conn.fetchrow(
        f"SELECT {_ACCOUNT_COLUMNS} FROM account_configurations WHERE account_sid = $1", account_sid
    )
    return build(AccountConfiguration, row) or AccountConfiguration(account_sid=account_sid)  # type: ignore[no-any-return]


async def update_account_configuration(
    conn: Connection, *, account_sid: str, values: dict[str, Any]
) -> AccountConfiguration:
    assert set(values) <= set(ACCOUNT_WRITABLE), values
    names = ["account_sid", *values]
    placeholders = ", ".join(f"${n}" for n in range(1, len(names) + 1))
    updates = ", ".join([*(f"{column} = EXCLUDED.{column}" for column in values), "date_updated = now()"])
    row = await conn.fetchrow(
        f"INSERT INTO account_configurations ({', '.join(names)}) VALUES ({placeholders}) "
        f"ON CONFLICT (account_sid) DO UPDATE SET {updates} RETURNING {_ACCOUNT_COLUMNS}",
        account_sid, *values.values(),
    )
    return build(AccountConfiguration, row)  # type: ignore[no-any-return]


async def make_default_service(conn: Connection, *, account_sid: str, sid: str) -> None:
    """The account's default service is the one the /v1/Conversations paths act on."""
    await conn.execute("UPDATE services SET is_default = false WHERE account_sid = $1 AND is_default AND sid <> $2",
                       account_sid, sid)
    await conn.execute("UPDATE services SET is_default = true WHERE account_sid = $1 AND sid = $2", account_sid, sid)


# A service's Configuration/Webhooks ---------------------------------------------------------------

_SERVICE_COLUMNS = "chat_service_sid, account_sid, method, filters, pre_webhook_url, post_webhook_url"
SERVICE_WRITABLE = ("method", "filters", "pre_webhook_url", "post_webhook_url")


async def get_service_webhooks(conn: Connection, *, chat_service_sid: str) -> ServiceWebhookConfiguration | None:
    row = await conn.fetchrow(
        f"SELECT {_SERVICE_COLUMNS} FROM service_webhook_configurations WHERE chat_service_sid = $1", chat_service_sid
    )
    return build(ServiceWebhookConfiguration, row)  # type: ignore[no-any-return]


async def update_service_webhooks(
    conn: Connection, *, account_sid: str, chat_service_sid: str, values: dict[str, Any]
) -> ServiceWebhookConfiguration:
    assert set(values) <= set(SERVICE_WRITABLE), values
    names = ["chat_service_sid", "account_sid", *values]
    placeholders = ", ".join(f"${n}" for n in range(1, len(names) + 1))
    updates = ", ".join([*(f"{column} = EXCLUDED.{column}" for column in values), "date_updated = now()"])
    row = await conn.fetchrow(
        f"INSERT INTO service_webhook_configurations ({', '.join(names)}) VALUES ({placeholders}) "
        f"ON CONFLICT (chat_service_sid) DO UPDATE SET {updates} RETURNING {_SERVICE_COLUMNS}",
        chat_service_sid, account_sid, *values.values(),
    )
    return build(ServiceWebhookConfiguration, row)  # type: ignore[no-any-return]
