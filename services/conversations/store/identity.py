"""Services (with Configuration and Notifications), roles, users and their conversations, bindings, credentials.

Lists are keysets over (date_created, sid): `after`/`before` carry the key seen last, [iso date, sid].
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from services.conversations.domain.identity import (
    CHANNEL_ADMIN,
    CHANNEL_USER,
    DEFAULT_ROLES,
    SERVICE_USER,
    Binding,
    Credential,
    PushTemplate,
    Role,
    Service,
    ServiceNotifications,
    User,
    UserConversation,
)
from services.conversations.store.base import Connection, build, deleted_one
from shared.crypto import SealedColumn, SecretBox
from shared.sids import new_sid

_SERVICE_COLUMNS = (
    "sid, account_sid, friendly_name, is_default, reachability_enabled, default_conversation_creator_role_sid, "
    "default_conversation_role_sid, default_chat_service_role_sid, date_created, date_updated"
)
_ROLE_COLUMNS = "sid, account_sid, chat_service_sid, friendly_name, type, permissions, date_created, date_updated"
_USER_COLUMNS = (
    "sid, account_sid, chat_service_sid, identity, friendly_name, attributes, role_sid, is_online, is_notifiable, "
    "date_created, date_updated"
)
USER_WRITABLE = ("friendly_name", "attributes", "role_sid")
_BINDING_COLUMNS = (
    "sid, account_sid, chat_service_sid, credential_sid, identity, endpoint, binding_type, message_types, "
    "date_created, date_updated"
)
_CREDENTIAL_COLUMNS = "sid, account_sid, friendly_name, type, sandbox, date_created, date_updated"
CREDENTIAL_WRITABLE = ("friendly_name", "type", "sandbox", "certificate", "private_key", "api_key", "secret")
SERVICE_CONFIGURATION_WRITABLE = (
    "default_conversation_creator_role_sid", "default_conversation_role_sid", "default_chat_service_role_sid",
    "reachability_enabled",
)
NOTIFICATION_WRITABLE = (
    "log_enabled", "new_message_enabled", "new_message_template", "new_message_sound", "new_message_badge_count_enabled",
    "new_message_with_media_enabled", "new_message_with_media_template", "added_to_conversation_enabled",
    "added_to_conversation_template", "added_to_conversation_sound", "removed_from_conversation_enabled",
    "removed_from_conversation_template", "removed_from_conversation_sound",
)


def _keyset(after: list[Any] | None, before: list[Any] | None, *, first: int) -> tuple[str, str, list[Any]]:
    """The keyset condition (parameters from `$first`), the order, and its parameters; paging back runs the
    other way round (the caller reverses the rows)."""
    bound = after or before
    key = [datetime.fromisoformat(bound[0]), bound[1]] if bound else [None, None]
    comparison, direction = (">", "ASC") if before is None else ("<", "DESC")
    condition = (f"(${first}::timestamptz IS NULL OR (date_created, sid) {comparison} "
                 f"(${first}::timestamptz, ${first + 1}::text))")
    return condition, f"ORDER BY date_created {direction}, sid {direction}", key


async def _page(conn: Connection, cls: Any, sql: str, args: list[Any], *, after: list[Any] | None,
                before: list[Any] | None, limit: int) -> list[Any]:
    condition, order, key = _keyset(after, before, first=len(args) + 1)
    rows = await conn.fetch(f"{sql} AND {condition} {order} LIMIT ${len(args) + 3}", *args, *key, limit)
    found = [build(cls, row) for row in rows]
    if before is not None:
        found.reverse()
    return found


def _assignments(values: dict[str, Any], *, first: int = 2) -> str:
    return ", ".join([*(f"{column} = ${n}" for n, column in enumerate(values, start=first)), "date_updated = now()"])


# Services


async def insert_service(conn: Connection, *, account_sid: str, friendly_name: str) -> Service:
    row = await conn.fetchrow(
        f"INSERT INTO services (sid, account_sid, friendly_name) VALUES ($1, $2, $3) RETURNING {_SERVICE_COLUMNS}",
        new_sid("IS"), account_sid, friendly_name,
    )
    return build(Service, row)  # type: ignore[no-any-return]


async def get_service(conn: Connection, *, account_sid: str, sid: str) -> Service | None:
    row = await conn.fetchrow(f"SELECT {_SERVICE_COLUMNS} FROM services WHERE account_sid = $1 AND sid = $2",
                              account_sid, sid)
    return build(Service, row)  # type: ignore[no-any-return]


async def list_services(conn: Connection, *, account_sid: str, after: list[Any] | None, before: list[Any] | None,
                        limit: int) -> list[Service]:
    return await _page(conn, Service, f"SELECT {_SERVICE_COLUMNS} FROM services WHERE account_sid = $1", [account_sid],
                       after=after, before=before, limit=limit)


async def ensure_default_roles(conn: Connection, *, account_sid: str, service_sid: str) -> bool:
    """Create the service's default roles and make them its Configuration's defaults, once (the row lock makes
    concurrent callers wait; only the first creates). True when this call created them."""
    # One transaction (a savepoint inside the caller's): the claim's row lock lasts until the roles are in,
    # so a concurrent caller waits for them instead of finding the flag set and no roles yet.
    async with conn.transaction():
        claimed = await conn.fetchval(
            "UPDATE services SET default_roles_created = true WHERE sid = $1 AND NOT default_roles_created RETURNING sid",
            service_sid,
        )
        if claimed is None:
            return False
        created: dict[str, str] = {}
        for role in DEFAULT_ROLES:
            inserted = await insert_role(conn, account_sid=account_sid, chat_service_sid=service_sid,
                                         friendly_name=role.friendly_name, type=role.type,
                                         permissions=list(role.permissions))
            created[role.friendly_name] = inserted.sid
        await conn.execute(
            "UPDATE services SET default_conversation_creator_role_sid = $2, default_conversation_role_sid = $3, "
            "default_chat_service_role_sid = $4 WHERE sid = $1",
            service_sid, created[CHANNEL_ADMIN.friendly_name], created[CHANNEL_USER.friendly_name],
            created[SERVICE_USER.friendly_name],
        )
        return True


async def update_service_configuration(conn: Connection, *, sid: str, values: dict[str, Any]) -> Service:
    assert set(values) <= set(SERVICE_CONFIGURATION_WRITABLE), values
    row = await conn.fetchrow(
        f"UPDATE services SET {_assignments(values)} WHERE sid = $1 RETURNING {_SERVICE_COLUMNS}", sid, *values.values()
    )
    return build(Service, row)  # type: ignore[no-any-return]


async def delete_service(conn: Connection, *, sid: str) -> list[str]:
    """Remove a service and everything in it; returns the blob keys of its media, for the caller to delete
    once the transaction has committed."""
    blob_keys = [row["blob_key"] for row in await conn.fetch("SELECT blob_key FROM media WHERE chat_service_sid = $1", sid)]
    await conn.execute("DELETE FROM conversations WHERE chat_service_sid = $1", sid)
    await conn.execute("UPDATE address_configurations SET conversation_service_sid = NULL WHERE conversation_service_sid = $1",
                       sid)
    await conn.execute("DELETE FROM services WHERE sid = $1", sid)
    return blob_keys


async def get_notifications(conn: Connection, *, account_sid: str, chat_service_sid: str) -> ServiceNotifications:
    row = await conn.fetchrow("SELECT * FROM service_notifications WHERE chat_service_sid = $1", chat_service_sid)
    if row is None:
        return ServiceNotifications(chat_service_sid=chat_service_sid, account_sid=account_sid)
    return ServiceNotifications(
        chat_service_sid=chat_service_sid,
        account_sid=account_sid,
        log_enabled=row["log_enabled"],
        new_message=PushTemplate(row["new_message_enabled"], row["new_message_template"], row["new_message_sound"]),
        new_message_badge_count_enabled=row["new_message_badge_count_enabled"],
        new_message_with_media=PushTemplate(row["new_message_with_media_enabled"], row["new_message_with_media_template"]),
        added_to_conversation=PushTemplate(row["added_to_conversation_enabled"], row["added_to_conversation_template"],
                                           row["added_to_conversation_sound"]),
        removed_from_conversation=PushTemplate(row["removed_from_conversation_enabled"],
                                               row["removed_from_conversation_template"],
                                               row["removed_from_conversation_sound"]),
    )


async def update_notifications(conn: Connection, *, account_sid: str, chat_service_sid: str,
                               values: dict[str, Any]) -> ServiceNotifications:
    assert set(values) <= set(NOTIFICATION_WRITABLE), values
    await conn.execute(
        "INSERT INTO service_notifications (chat_service_sid, account_sid) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        chat_service_sid, account_sid,
    )
    if values:
        await conn.execute(f"UPDATE service_notifications SET {_assignments(values)} WHERE chat_service_sid = $1",
                           chat_service_sid, *values.values())
    return await get_notifications(conn, account_sid=account_sid, chat_service_sid=chat_service_sid)


# Roles


async def insert_role(conn: Connection, *, account_sid: str, chat_service_sid: str, friendly_name: str, type: str,
                      permissions: list[str]) -> Role:
    row = await conn.fetchrow(
        f"INSERT INTO roles (sid, account_sid, chat_service_sid, friendly_name, type, permissions) "
        f"VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_ROLE_COLUMNS}",
        new_sid("RL"), account_sid, chat_service_sid, friendly_name, type, permissions,
    )
    return build(Role, row)  # type: ignore[no-any-return]


async def get_role(conn: Connection, *, chat_service_sid: str, sid: str) -> Role | None:
    row = await conn.fetchrow(f"SELECT {_ROLE_COLUMNS} FROM roles WHERE chat_service_sid = $1 AND sid = $2",
                              chat_service_sid, sid)
    return build(Role, row)  # type: ignore[no-any-return]


async def list_roles(conn: Connection, *, chat_service_sid: str, after: list[Any] | None, before: list[Any] | None,
                     limit: int) -> list[Role]:
    return await _page(conn, Role, f"SELECT {_ROLE_COLUMNS} FROM roles WHERE chat_service_sid = $1", [chat_service_sid],
                       after=after, before=before, limit=limit)


async def update_role_permissions(conn: Connection, *, sid: str, permissions: list[str]) -> Role:
    row = await conn.fetchrow(
        f"UPDATE roles SET permissions = $2, date_updated = now() WHERE sid = $1 RETURNING {_ROLE_COLUMNS}",
        sid, permissions,
    )
    return build(Role, row)  # type: ignore[no-any-return]


async def delete_role(conn: Connection, *, sid: str) -> bool:
    return deleted_one(await conn.execute("DELETE FROM roles WHERE sid = $1", sid))


# Users


class IdentityTaken(Exception):
    pass


async def insert_user(conn: Connection, *, account_sid: str, chat_service_sid: str, identity: str,
                      values: dict[str, Any]) -> User:
    assert set(values) <= set(USER_WRITABLE), values
    columns = ["sid", "account_sid", "chat_service_sid", "identity", *values]
    placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                f"INSERT INTO users ({', '.join(columns)}) VALUES ({placeholders}) RETURNING {_USER_COLUMNS}",
                new_sid("US"), account_sid, chat_service_sid, identity, *values.values(),
            )
    except asyncpg.UniqueViolationError as error:
        raise IdentityTaken(identity) from error
    return build(User, row)  # type: ignore[no-any-return]


async def get_user(conn: Connection, *, chat_service_sid: str, sid_or_identity: str, for_update: bool = False) -> User | None:
    """By SID or identity, as Twilio allows both in the path (a SID wins)."""
    row = await conn.fetchrow(
        f"SELECT {_USER_COLUMNS} FROM users WHERE chat_service_sid = $1 AND (sid = $2 OR identity = $2) "
        f"ORDER BY sid = $2 DESC LIMIT 1{' FOR UPDATE' if for_update else ''}",
        chat_service_sid, sid_or_identity,
    )
    return build(User, row)  # type: ignore[no-any-return]


async def list_users(conn: Connection, *, chat_service_sid: str, after: list[Any] | None, before: list[Any] | None,
                     limit: int) -> list[User]:
    return await _page(conn, User, f"SELECT {_USER_COLUMNS} FROM users WHERE chat_service_sid = $1", [chat_service_sid],
                       after=after, before=before, limit=limit)


async def update_user(conn: Connection, *, sid: str, values: dict[str, Any]) -> User:
    assert set(values) <= set(USER_WRITABLE), values
    row = await conn.fetchrow(f"UPDATE users SET {_assignments(values)} WHERE sid = $1 RETURNING {_USER_COLUMNS}",
                              sid, *values.values())
    return build(User, row)  # type: ignore[no-any-return]


async def delete_user(conn: Connection, *, sid: str) -> bool:
    return deleted_one(await conn.execute("DELETE FROM users WHERE sid = $1", sid))


_USER_CONVERSATION_SELECT = (
    "SELECT $1::text AS user_sid, c.account_sid, c.chat_service_sid, c.sid AS conversation_sid, "
    "p.sid AS participant_sid, c.unique_name, c.friendly_name, c.attributes, c.state, c.date_inactive, c.date_closed, "
    "c.last_message_index, p.last_read_message_index, coalesce(s.notification_level, 'default') AS notification_level, "
    "c.date_created, c.date_updated "
    "FROM participants p JOIN conversations c ON c.sid = p.conversation_sid "
    "LEFT JOIN user_conversation_settings s ON s.user_sid = $1 AND s.conversation_sid = c.sid "
    "WHERE c.chat_service_sid = $2 AND p.identity = $3"
)


async def list_user_conversations(conn: Connection, *, user: User, after: str | None, limit: int) -> list[UserConversation]:
    """The conversations the user's identity takes part in, keyset on the conversation SID."""
    rows = await conn.fetch(
        f"{_USER_CONVERSATION_SELECT} AND ($4::text IS NULL OR c.sid > $4) ORDER BY c.sid LIMIT $5",
        user.sid, user.chat_service_sid, user.identity, after, limit,
    )
    return [build(UserConversation, row) for row in rows]


async def get_user_conversation(conn: Connection, *, user: User, conversation_sid: str) -> UserConversation | None:
    row = await conn.fetchrow(
        f"{_USER_CONVERSATION_SELECT} AND (c.sid = $4 OR c.unique_name = $4) ORDER BY c.sid = $4 DESC LIMIT 1",
        user.sid, user.chat_service_sid, user.identity, conversation_sid,
    )
    return build(UserConversation, row)  # type: ignore[no-any-return]


async def set_notification_level(conn: Connection, *, user_sid: str, conversation_sid: str, level: str) -> None:
    await conn.execute(
        "INSERT INTO user_conversation_settings (user_sid, conversation_sid, notification_level) VALUES ($1, $2, $3) "
        "ON CONFLICT (user_sid, conversation_sid) DO UPDATE SET notification_level = excluded.notification_level",
        user_sid, conversation_sid, level,
    )


# Bindings (registered by SDK clients; the REST API reads and deletes them)


async def insert_binding(conn: Connection, *, account_sid: str, chat_service_sid: str, identity: str, endpoint: str,
                         binding_type: str, credential_sid: str | None = None,
                         message_types: list[str] | None = None) -> Binding:
    row = await conn.fetchrow(
        f"INSERT INTO bindings (sid, account_sid, chat_service_sid, credential_sid, identity, endpoint, binding_type, "
        f"message_types) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        f"ON CONFLICT (chat_service_sid, identity, endpoint, binding_type) DO UPDATE SET "
        f"credential_sid = excluded.credential_sid, message_types = excluded.message_types, date_updated = now() "
        f"RETURNING {_BINDING_COLUMNS}",
        new_sid("BS"), account_sid, chat_service_sid, credential_sid, identity, endpoint, binding_type,
        message_types or [],
    )
    return build(Binding, row)  # type: ignore[no-any-return]


async def get_binding(conn: Connection, *, chat_service_sid: str, sid: str) -> Binding | None:
    row = await conn.fetchrow(f"SELECT {_BINDING_COLUMNS} FROM bindings WHERE chat_service_sid = $1 AND sid = $2",
                              chat_service_sid, sid)
    return build(Binding, row)  # type: ignore[no-any-return]


async def list_bindings(conn: Connection, *, chat_service_sid: str, binding_types: list[str] | None,
                        identities: list[str] | None, after: list[Any] | None, before: list[Any] | None,
                        limit: int) -> list[Binding]:
    return await _page(
        conn, Binding,
        f"SELECT {_BINDING_COLUMNS} FROM bindings WHERE chat_service_sid = $1 "
        f"AND ($2::text[] IS NULL OR binding_type = ANY($2)) AND ($3::text[] IS NULL OR identity = ANY($3))",
        [chat_service_sid, binding_types, identities], after=after, before=before, limit=limit,
    )


async def delete_binding(conn: Connection, *, sid: str) -> bool:
    return deleted_one(await conn.execute("DELETE FROM bindings WHERE sid = $1", sid))


# Credentials

# Push secrets are written and never read back (Parley sends no push), but stored sealed all the same.
CREDENTIAL_SECRETS = ("certificate", "private_key", "api_key", "secret")
SEALED_CREDENTIALS = tuple(SealedColumn("credentials", column) for column in CREDENTIAL_SECRETS)


def _sealed_credential(values: dict[str, Any], box: SecretBox) -> dict[str, Any]:
    return {column: box.seal(value) if column in CREDENTIAL_SECRETS and value is not None else value
            for column, value in values.items()}



async def insert_credential(conn: Connection, *, account_sid: str, values: dict[str, Any], box: SecretBox) -> Credential:
    assert set(values) <= set(CREDENTIAL_WRITABLE), values
    values = _sealed_credential(values, box)
    columns = ["sid", "account_sid", *values]
    placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO credentials ({', '.join(columns)}) VALUES ({placeholders}) RETURNING {_CREDENTIAL_COLUMNS}",
        new_sid("CR"), account_sid, *values.values(),
    )
    return build(Credential, row)  # type: ignore[no-any-return]


async def get_credential(conn: Connection, *, account_sid: str, sid: str) -> Credential | None:
    row = await conn.fetchrow(f"SELECT {_CREDENTIAL_COLUMNS} FROM credentials WHERE account_sid = $1 AND sid = $2",
                              account_sid, sid)
    return build(Credential, row)  # type: ignore[no-any-return]


async def list_credentials(conn: Connection, *, account_sid: str, after: list[Any] | None, before: list[Any] | None,
                           limit: int) -> list[Credential]:
    return await _page(conn, Credential, f"SELECT {_CREDENTIAL_COLUMNS} FROM credentials WHERE account_sid = $1",
                       [account_sid], after=after, before=before, limit=limit)


async def update_credential(conn: Connection, *, sid: str, values: dict[str, Any], box: SecretBox) -> Credential:
    assert set(values) <= set(CREDENTIAL_WRITABLE), values
    values = _sealed_credential(values, box)
    row = await conn.fetchrow(
        f"UPDATE credentials SET {_assignments(values)} WHERE sid = $1 RETURNING {_CREDENTIAL_COLUMNS}",
        sid, *values.values(),
    )
    return build(Credential, row)  # type: ignore[no-any-return]


async def delete_credential(conn: Connection, *, account_sid: str, sid: str) -> bool:
    return deleted_one(await conn.execute("DELETE FROM credentials WHERE account_sid = $1 AND sid = $2", account_sid, sid))
