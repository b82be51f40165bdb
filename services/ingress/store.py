"""All SQL of the ingress service. Functions run inside the caller's transaction, or on the pool for reads."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

from services.ingress.domain.providers import Provider, ProviderFields
from services.ingress.domain.sends import STATUS_PROGRESSION, Send
from shared.contracts.channels import OutboundMessage
from shared.crypto import SealedColumn, SecretBox
from shared.sids import new_sid

Connection: TypeAlias = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy | asyncpg.Pool

# The addresses ride along in one array, so a page of providers is one query.
_PROVIDER_SELECT = (
    "SELECT p.sid, p.account_sid, p.type, p.friendly_name, p.api_base_url, p.credentials, p.date_created, "
    "p.date_updated, coalesce((SELECT array_agg(a.address ORDER BY a.position) FROM provider_addresses a "
    "WHERE a.provider_sid = p.sid), '{}') AS addresses FROM providers p"
)


# Every credential value is sealed; the keys stay plain, so the table's constraints still see which are set.
SEALED_CREDENTIALS = SealedColumn("providers", "credentials", json_values=True)


def _sealed(credentials: Mapping[str, str], box: SecretBox) -> dict[str, str]:
    return {name: box.seal(value) for name, value in credentials.items()}


def _provider(row: asyncpg.Record, box: SecretBox) -> Provider:
    return Provider(
        sid=row["sid"],
        account_sid=row["account_sid"],
        type=row["type"],
        addresses=tuple(row["addresses"]),
        friendly_name=row["friendly_name"],
        api_base_url=row["api_base_url"],
        credentials={name: box.open(value) for name, value in row["credentials"].items()},
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )


async def get_provider(conn: Connection, *, sid: str, box: SecretBox, account_sid: str | None = None) -> Provider | None:
    """By SID; with `account_sid`, only when the provider belongs to that account."""
    row = await conn.fetchrow(
        f"{_PROVIDER_SELECT} WHERE p.sid = $1 AND ($2::text IS NULL OR p.account_sid = $2)", sid, account_sid
    )
    return _provider(row, box) if row else None


async def lock_provider(conn: Connection, *, sid: str, account_sid: str) -> bool:
    """Hold the provider row until the transaction ends, so concurrent updates apply one after the other."""
    return bool(await conn.fetchval(
        "SELECT true FROM providers WHERE sid = $1 AND account_sid = $2 FOR UPDATE", sid, account_sid
    ))


async def list_providers(
    conn: Connection, *, account_sid: str, after: str | None, before: str | None, limit: int, box: SecretBox
) -> list[Provider]:
    if before is not None:
        rows = await conn.fetch(
            f"SELECT * FROM ({_PROVIDER_SELECT} WHERE p.account_sid = $1 AND p.sid < $2 ORDER BY p.sid DESC LIMIT $3) "
            f"page ORDER BY sid",
            account_sid, before, limit,
        )
    else:
        rows = await conn.fetch(
            f"{_PROVIDER_SELECT} WHERE p.account_sid = $1 AND ($2::text IS NULL OR p.sid > $2) ORDER BY p.sid LIMIT $3",
            account_sid, after, limit,
        )
    return [_provider(row, box) for row in rows]


async def insert_provider(conn: Connection, *, account_sid: str, fields: ProviderFields, box: SecretBox) -> str:
    sid = new_sid("PV")
    await conn.execute(
        "INSERT INTO providers (sid, account_sid, type, friendly_name, api_base_url, credentials) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        sid, account_sid, fields.type, fields.friendly_name, fields.api_base_url, _sealed(fields.credentials, box),
    )
    await replace_addresses(conn, account_sid=account_sid, provider_sid=sid, addresses=fields.addresses)
    return sid


async def update_provider(conn: Connection, *, account_sid: str, sid: str, fields: ProviderFields,
                          box: SecretBox) -> None:
    await conn.execute(
        "UPDATE providers SET friendly_name = $3, api_base_url = $4, credentials = $5, date_updated = now() "
        "WHERE sid = $1 AND account_sid = $2",
        sid, account_sid, fields.friendly_name, fields.api_base_url, _sealed(fields.credentials, box),
    )
    await replace_addresses(conn, account_sid=account_sid, provider_sid=sid, addresses=fields.addresses)


async def replace_addresses(conn: Connection, *, account_sid: str, provider_sid: str, addresses: Sequence[str]) -> None:
    await conn.execute("DELETE FROM provider_addresses WHERE provider_sid = $1", provider_sid)
    await conn.execute(
        "INSERT INTO provider_addresses (provider_sid, account_sid, address, position) "
        "SELECT $1, $2, address, position - 1 FROM unnest($3::text[]) WITH ORDINALITY AS given (address, position)",
        provider_sid, account_sid, list(addresses),
    )


async def find_address_owner(
    conn: Connection, *, account_sid: str, addresses: Sequence[str], other_than: str | None = None
) -> tuple[str, str] | None:
    """(address, provider SID) of the first of `addresses` another provider of the account already serves."""
    row = await conn.fetchrow(
        "SELECT address, provider_sid FROM provider_addresses WHERE account_sid = $1 AND address = ANY($2::text[]) "
        "AND ($3::text IS NULL OR provider_sid <> $3) ORDER BY address LIMIT 1",
        account_sid, list(addresses), other_than,
    )
    return (row["address"], row["provider_sid"]) if row else None


async def delete_provider(conn: Connection, *, account_sid: str, sid: str) -> bool:
    result = await conn.execute("DELETE FROM providers WHERE sid = $1 AND account_sid = $2", sid, account_sid)
    return bool(result.endswith(" 1"))


# --- Outbound sends -------------------------------------------------------------------------------------------

_SEND_COLUMNS = (
    "id, account_sid, conversation_sid, message_sid, participant_sid, channel, provider_sid, from_address, "
    "to_address, body, media_urls, media_content_types, content_sid, state, attempts, channel_message_sid, "
    "provider_status, error_code, "
    "error_message"
)


def _send(row: asyncpg.Record) -> Send:
    return Send(
        id=row["id"], account_sid=row["account_sid"], conversation_sid=row["conversation_sid"],
        message_sid=row["message_sid"], participant_sid=row["participant_sid"], channel=row["channel"],
        provider_sid=row["provider_sid"], from_address=row["from_address"], to_address=row["to_address"],
        body=row["body"], media_urls=tuple(row["media_urls"]),
        media_content_types=tuple(row["media_content_types"]), content_sid=row["content_sid"], state=row["state"],
        attempts=row["attempts"], channel_message_sid=row["channel_message_sid"],
        provider_status=row["provider_status"], error_code=row["error_code"], error_message=row["error_message"],
    )


async def find_provider_of_address(conn: Connection, *, account_sid: str, address: str) -> str | None:
    return await conn.fetchval(  # type: ignore[no-any-return]
        "SELECT provider_sid FROM provider_addresses WHERE account_sid = $1 AND address = $2", account_sid, address
    )


async def insert_send(conn: Connection, *, account_sid: str, command: OutboundMessage,
                      provider_sid: str | None) -> Send | None:
    """The new send record; None when this message and participant already have one."""
    # Providers fetch media by URL; media known only by blob key wait for the media store to give them one.
    linked = [media for media in command.media if media.url]
    row = await conn.fetchrow(
        "INSERT INTO sends (account_sid, conversation_sid, message_sid, participant_sid, channel, provider_sid, "
        "from_address, to_address, body, media_urls, media_content_types, content_sid) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
        f"ON CONFLICT (message_sid, participant_sid) DO NOTHING RETURNING {_SEND_COLUMNS}",
        account_sid, command.conversation_sid, command.message_sid, command.participant_sid, command.channel,
        provider_sid, command.from_address, command.to_address, command.body,
        [media.url for media in linked], [media.content_type for media in linked], command.content_sid,
    )
    return _send(row) if row else None


async def get_send(conn: Connection, *, message_sid: str, participant_sid: str) -> Send | None:
    row = await conn.fetchrow(
        f"SELECT {_SEND_COLUMNS} FROM sends WHERE message_sid = $1 AND participant_sid = $2",
        message_sid, participant_sid,
    )
    return _send(row) if row else None


async def restart_send(conn: Connection, *, id: int, provider_sid: str) -> None:
    """A parked send asked for again (a dead letter replayed): a fresh budget, from now."""
    await conn.execute(
        "UPDATE sends SET state = 'pending', provider_sid = $2, attempts = 0, next_attempt_at = now(), "
        "lease_until = NULL, error_code = NULL, error_message = NULL, "
        "reported_statuses = array_remove(reported_statuses, 'failed'), date_updated = now() "
        "WHERE id = $1 AND state = 'failed'", id, provider_sid,
    )


async def list_due_senders(conn: Connection, *, limit: int) -> list[tuple[str, str]]:
    """(account, From) pairs with a send due now: pending and due, or in flight past its lease."""
    rows = await conn.fetch(
        "SELECT DISTINCT account_sid, from_address FROM sends WHERE (state = 'pending' AND next_attempt_at <= now()) "
        "OR (state = 'sending' AND lease_until < now()) LIMIT $1", limit,
    )
    return [(row["account_sid"], row["from_address"]) for row in rows]


async def lock_next_due_send(conn: Connection, *, account_sid: str, from_address: str) -> Send | None:
    """The oldest due send of one sender (pending and due, or in flight past its lease), held until the
    transaction ends; skips what another sender holds."""
    row = await conn.fetchrow(
        f"SELECT {_SEND_COLUMNS} FROM sends WHERE account_sid = $1 AND from_address = $2 AND "
        "((state = 'pending' AND next_attempt_at <= now()) OR (state = 'sending' AND lease_until < now())) "
        "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
        account_sid, from_address,
    )
    return _send(row) if row else None


async def lease_send(conn: Connection, *, id: int, lease_seconds: float) -> Send:
    """Claim the send for one attempt, counting it before it is made."""
    row = await conn.fetchrow(
        "UPDATE sends SET state = 'sending', attempts = attempts + 1, lease_until = now() + make_interval(secs => $2), "
        f"date_updated = now() WHERE id = $1 RETURNING {_SEND_COLUMNS}",
        id, lease_seconds,
    )
    return _send(row)


async def get_send_of_channel_message(conn: Connection, *, provider_sid: str, channel_message_sid: str) -> Send | None:
    row = await conn.fetchrow(
        f"SELECT {_SEND_COLUMNS} FROM sends WHERE provider_sid = $1 AND channel_message_sid = $2",
        provider_sid, channel_message_sid,
    )
    return _send(row) if row else None


async def reserve_send_slot(conn: Connection, *, account_sid: str, address: str, interval_seconds: float) -> float:
    """Seconds until this sender's next send may go, booking the slot after it (a token bucket of one token).
    Measured on the database's clock, so replicas with drifting clocks still share one schedule."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        "INSERT INTO sender_pacing AS p (account_sid, address, free_at) "
        "VALUES ($1, $2, now() + make_interval(secs => $3)) ON CONFLICT (account_sid, address) DO UPDATE "
        "SET free_at = greatest(p.free_at, now()) + make_interval(secs => $3) "
        "RETURNING greatest(extract(epoch FROM free_at - make_interval(secs => $3) - now()), 0)::float8",
        account_sid, address, interval_seconds,
    )


async def mark_send_submitted(conn: Connection, *, id: int, channel_message_sid: str,
                              provider_status: str | None) -> bool:
    result = await conn.execute(
        "UPDATE sends SET state = 'submitted', channel_message_sid = $2, "
        "provider_status = coalesce(provider_status, $3), lease_until = NULL, error_code = NULL, "
        "error_message = NULL, date_updated = now() WHERE id = $1 AND state = 'sending'",
        id, channel_message_sid, provider_status,
    )
    return bool(result.endswith(" 1"))


async def mark_send_retrying(conn: Connection, *, id: int, attempt: int, delay_seconds: float,
                             error_code: int | None, error_message: str | None) -> None:
    """Due again after the delay; only while `attempt` is still the claim in flight (a later claim, taken back
    from this one's expired lease, is not released under its sender)."""
    await conn.execute(
        "UPDATE sends SET state = 'pending', next_attempt_at = now() + make_interval(secs => $3), lease_until = NULL, "
        "error_code = $4, error_message = $5, date_updated = now() WHERE id = $1 AND state = 'sending' "
        "AND attempts = $2",
        id, attempt, delay_seconds, error_code, (error_message or "")[:2000] or None,
    )


async def mark_send_failed(conn: Connection, *, id: int, error_code: int, error_message: str) -> bool:
    """Park the send; True when this call parked it (it was not already final)."""
    result = await conn.execute(
        "UPDATE sends SET state = 'failed', lease_until = NULL, error_code = $2, error_message = $3, "
        "reported_statuses = array_append(reported_statuses, 'failed'), date_updated = now() "
        "WHERE id = $1 AND state IN ('pending', 'sending')",
        id, error_code, error_message[:2000],
    )
    return bool(result.endswith(" 1"))


async def record_provider_status(conn: Connection, *, provider_sid: str, channel_message_sid: str, status: str,
                                 error_code: int | None, report: bool) -> tuple[Send | None, bool]:
    """Note the provider's status on its send. Returns the send (None if unknown) and whether this status is
    reported for the first time (only when `report`: a receipt status)."""
    row = await conn.fetchrow(
        "WITH old AS (SELECT id AS old_id, reported_statuses AS before, provider_status AS was FROM sends "
        "WHERE provider_sid = $1 AND channel_message_sid = $2 FOR UPDATE) "
        # A late `sent` never hides an earlier `delivered`: the record keeps the furthest status.
        "UPDATE sends SET provider_status = CASE WHEN coalesce(array_position($6::text[], $3), 0) >= "
        "coalesce(array_position($6::text[], was), 0) THEN $3 ELSE was END, "
        "error_code = coalesce($4, error_code), "
        "reported_statuses = CASE WHEN $5 AND NOT ($3 = ANY(before)) THEN array_append(before, $3) ELSE before END, "
        "date_updated = now() FROM old WHERE id = old_id "
        f"RETURNING {_SEND_COLUMNS}, ($5 AND NOT ($3 = ANY(before))) AS first_report",
        provider_sid, channel_message_sid, status, error_code, report, list(STATUS_PROGRESSION),
    )
    if row is None:
        return None, False
    return _send(row), bool(row["first_report"])


async def lock_channel_message(conn: Connection, *, provider_sid: str, channel_message_sid: str) -> None:
    """Until the transaction ends: a status callback and the recording of the provider's answer about the same
    message take turns, so a callback that overtook the answer is never left unapplied."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{provider_sid}/{channel_message_sid}")


async def insert_early_status(conn: Connection, *, provider_sid: str, channel_message_sid: str, status: str,
                              error_code: int | None, reported_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO early_statuses (provider_sid, channel_message_sid, status, error_code, reported_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        provider_sid, channel_message_sid, status, error_code, reported_at,
    )


async def take_early_statuses(conn: Connection, *, provider_sid: str,
                              channel_message_sid: str) -> list[tuple[str, int | None, datetime]]:
    rows = await conn.fetch(
        "DELETE FROM early_statuses WHERE provider_sid = $1 AND channel_message_sid = $2 "
        "RETURNING status, error_code, reported_at",
        provider_sid, channel_message_sid,
    )
    return sorted(((row["status"], row["error_code"], row["reported_at"]) for row in rows), key=lambda item: item[2])


async def route_outbox_message(conn: Connection, *, message_id: uuid.UUID, routing_key: str) -> None:
    """Give an outbox row a routing key other than its envelope's type (a dead letter keeps its original type)."""
    await conn.execute("UPDATE outbox SET routing_key = $2 WHERE message_id = $1", message_id, routing_key)


# --- WhatsApp customer service windows ---------------------------------------------------------------------------

async def note_customer_wrote(conn: Connection, *, provider_sid: str, customer_address: str, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO whatsapp_windows AS w (provider_sid, customer_address, last_inbound_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (provider_sid, customer_address) DO UPDATE "
        "SET last_inbound_at = greatest(w.last_inbound_at, excluded.last_inbound_at)",
        provider_sid, customer_address, at,
    )


async def get_last_inbound(conn: Connection, *, provider_sid: str, customer_address: str) -> datetime | None:
    return await conn.fetchval(  # type: ignore[no-any-return]
        "SELECT last_inbound_at FROM whatsapp_windows WHERE provider_sid = $1 AND customer_address = $2",
        provider_sid, customer_address,
    )


# --- Realtime: who sees which conversation, and the resume log ---------------------------------------------------

async def insert_member(conn: Connection, *, account_sid: str, identity: str, conversation_sid: str,
                        participant_sid: str) -> None:
    await conn.execute(
        "INSERT INTO realtime_members (account_sid, identity, conversation_sid, participant_sid) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (account_sid, identity, conversation_sid) "
        "DO UPDATE SET participant_sid = excluded.participant_sid",
        account_sid, identity, conversation_sid, participant_sid,
    )


async def delete_member(conn: Connection, *, account_sid: str, conversation_sid: str, participant_sid: str) -> None:
    await conn.execute(
        "DELETE FROM realtime_members WHERE account_sid = $1 AND conversation_sid = $2 AND participant_sid = $3",
        account_sid, conversation_sid, participant_sid,
    )


async def delete_conversation_members(conn: Connection, *, account_sid: str, conversation_sid: str) -> None:
    await conn.execute("DELETE FROM realtime_members WHERE account_sid = $1 AND conversation_sid = $2",
                       account_sid, conversation_sid)


async def insert_closed_conversation(conn: Connection, *, account_sid: str, conversation_sid: str) -> None:
    await conn.execute(
        "INSERT INTO realtime_closed_conversations (account_sid, conversation_sid) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING", account_sid, conversation_sid,
    )


async def delete_closed_conversation(conn: Connection, *, account_sid: str, conversation_sid: str) -> None:
    await conn.execute("DELETE FROM realtime_closed_conversations WHERE account_sid = $1 AND conversation_sid = $2",
                       account_sid, conversation_sid)


async def has_open_conversation(conn: Connection, *, account_sid: str, identity: str) -> bool:
    """Whether the identity participates in a conversation that is not closed."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM realtime_members m WHERE m.account_sid = $1 AND m.identity = $2 "
        "AND NOT EXISTS (SELECT 1 FROM realtime_closed_conversations c "
        "WHERE c.account_sid = m.account_sid AND c.conversation_sid = m.conversation_sid))",
        account_sid, identity,
    ))


async def list_member_conversations(conn: Connection, *, account_sid: str, identity: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT conversation_sid FROM realtime_members WHERE account_sid = $1 AND identity = $2 ORDER BY conversation_sid",
        account_sid, identity,
    )
    return [row["conversation_sid"] for row in rows]


async def insert_logged_event(conn: Connection, *, account_sid: str, conversation_sid: str, type_: str,
                              message_index: int, resource: dict[str, Any], occurred_at: datetime) -> int:
    return await conn.fetchval(  # type: ignore[no-any-return]
        "INSERT INTO realtime_events (account_sid, conversation_sid, type, message_index, resource, occurred_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        account_sid, conversation_sid, type_, message_index, resource, occurred_at,
    )


async def list_logged_events(conn: Connection, *, account_sid: str, after: dict[str, int],
                             limit: int) -> list[asyncpg.Record]:
    """Message events after each conversation's given index, oldest first."""
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT e.id, e.conversation_sid, e.type, e.message_index, e.resource FROM realtime_events e "
        "JOIN unnest($2::text[], $3::int[]) AS given (conversation_sid, after_index) "
        "ON e.conversation_sid = given.conversation_sid AND e.message_index > given.after_index "
        "WHERE e.account_sid = $1 ORDER BY e.id LIMIT $4",
        account_sid, list(after), list(after.values()), limit,
    )


async def prune_logged_events(conn: Connection, *, older_than_seconds: float) -> int:
    result = await conn.execute(
        "DELETE FROM realtime_events WHERE date_created < now() - make_interval(secs => $1)", older_than_seconds
    )
    return int(result.split()[-1])
