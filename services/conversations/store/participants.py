"""Participants and the address pairs they hold, and the conversations an identity or address is in."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.conversations.domain.models import Conversation, Participant
from services.conversations.store.base import Connection, build, deleted_one
from services.conversations.store.conversations import _CONVERSATION_COLUMNS
from shared.sids import new_sid

_PARTICIPANT_COLUMNS = (
    "sid, account_sid, conversation_sid, identity, binding_type, address, proxy_address, projected_address, "
    "attributes, role_sid, last_read_message_index, last_read_timestamp, date_created, date_updated"
)
PARTICIPANT_WRITABLE = (
    "identity", "binding_type", "address", "proxy_address", "projected_address", "attributes", "role_sid",
    "last_read_message_index", "last_read_timestamp", "date_created", "date_updated",
)


class PairInUse(Exception):
    """The (address, proxy address) pair sits in another non-closed conversation (Twilio's 50425)."""


class IdentityInUse(Exception):
    """The identity already takes part in this conversation (Twilio's 50433)."""


def _qualified(alias: str) -> str:
    return ", ".join(f"{alias}.{column}" for column in _PARTICIPANT_COLUMNS.split(", "))


async def find_bound_participant(conn: Connection, *, account_sid: str, address: str, proxy_address: str) -> Participant | None:
    """The participant holding this (customer, Parley address) pair in a non-closed conversation."""
    row = await conn.fetchrow(
        f"SELECT {_qualified('p')} FROM bound_addresses b JOIN participants p ON p.sid = b.participant_sid "
        f"WHERE b.account_sid = $1 AND b.address = $2 AND b.proxy_address = $3",
        account_sid, address, proxy_address,
    )
    return build(Participant, row)  # type: ignore[no-any-return]


async def insert_participant(conn: Connection, *, account_sid: str, conversation_sid: str, **values: Any) -> Participant:
    """A chat identity or a messaging binding; a binding claims its pair (PairInUse when another holds it)."""
    columns = {key: value for key, value in values.items() if value is not None}
    assert set(columns) <= set(PARTICIPANT_WRITABLE), columns
    names = ["sid", "account_sid", "conversation_sid", *columns]
    placeholders = ", ".join(f"${n}" for n in range(1, len(names) + 1))
    try:
        async with conn.transaction():  # a savepoint: a refused claim leaves the caller's transaction usable
            row = await conn.fetchrow(
                f"INSERT INTO participants ({', '.join(names)}) VALUES ({placeholders}) RETURNING {_PARTICIPANT_COLUMNS}",
                new_sid("MB"), account_sid, conversation_sid, *columns.values(),
            )
            participant: Participant = build(Participant, row)
            if participant.address is not None and participant.proxy_address is not None:
                await _claim_pair(conn, participant)
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == "participants_identity":
            raise IdentityInUse(values.get("identity")) from error
        raise
    return participant


async def _claim_pair(conn: Connection, participant: Participant) -> None:
    try:
        await conn.execute(
            "INSERT INTO bound_addresses (account_sid, address, proxy_address, conversation_sid, participant_sid) "
            "VALUES ($1, $2, $3, $4, $5)",
            participant.account_sid, participant.address, participant.proxy_address, participant.conversation_sid,
            participant.sid,
        )
    except asyncpg.UniqueViolationError as error:
        raise PairInUse(f"{participant.address}|{participant.proxy_address}") from error


async def insert_messaging_participant(
    conn: Connection, *, account_sid: str, conversation_sid: str, binding_type: str, address: str, proxy_address: str,
    attributes: str = "{}",
) -> Participant:
    return await insert_participant(
        conn, account_sid=account_sid, conversation_sid=conversation_sid, binding_type=binding_type, address=address,
        proxy_address=proxy_address, attributes=attributes,
    )


async def list_participants(conn: Connection, *, conversation_sid: str, after: str | None, limit: int) -> list[Participant]:
    rows = await conn.fetch(
        f"SELECT {_PARTICIPANT_COLUMNS} FROM participants WHERE conversation_sid = $1 "
        f"AND ($2::text IS NULL OR sid > $2) ORDER BY sid LIMIT $3",
        conversation_sid, after, limit,
    )
    return [build(Participant, row) for row in rows]


async def get_participant(conn: Connection, *, conversation_sid: str, sid: str) -> Participant | None:
    """By SID or by the chat identity, as Twilio allows both in the path."""
    row = await conn.fetchrow(
        f"SELECT {_PARTICIPANT_COLUMNS} FROM participants WHERE conversation_sid = $1 AND (sid = $2 OR identity = $2) "
        f"ORDER BY sid = $2 DESC LIMIT 1",
        conversation_sid, sid,
    )
    return build(Participant, row)  # type: ignore[no-any-return]


async def update_participant(
    conn: Connection, *, participant: Participant, values: dict[str, Any], conversation_open: bool
) -> Participant:
    """Write the given columns; a changed proxy address moves the claimed pair (PairInUse when taken)."""
    assert set(values) <= set(PARTICIPANT_WRITABLE), values
    assignments = [f"{column} = ${n}" for n, column in enumerate(values, start=2)]
    if "date_updated" not in values:
        assignments.append("date_updated = now()")
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                f"UPDATE participants SET {', '.join(assignments)} WHERE sid = $1 RETURNING {_PARTICIPANT_COLUMNS}",
                participant.sid, *values.values(),
            )
            updated: Participant = build(Participant, row)
            if conversation_open and "proxy_address" in values and updated.address is not None:
                await conn.execute("DELETE FROM bound_addresses WHERE participant_sid = $1", updated.sid)
                await _claim_pair(conn, updated)
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == "participants_identity":
            raise IdentityInUse(values.get("identity")) from error
        raise
    return updated


async def delete_participant(conn: Connection, *, sid: str) -> bool:
    """Removing a participant releases its pair (the FK cascades)."""
    return deleted_one(await conn.execute("DELETE FROM participants WHERE sid = $1", sid))


async def list_participant_conversations(
    conn: Connection, *, account_sid: str, chat_service_sid: str, identity: str | None, address: str | None,
    after: str | None, limit: int,
) -> list[tuple[Participant, Conversation]]:
    """Every (participant, conversation) of one identity or one address in a service, keyset on participant SID."""
    conversation_columns = ", ".join(f"c.{column} AS c_{column}" for column in _CONVERSATION_COLUMNS.split(", "))
    rows = await conn.fetch(
        f"SELECT {_qualified('p')}, {conversation_columns} FROM participants p "
        f"JOIN conversations c ON c.sid = p.conversation_sid "
        f"WHERE p.account_sid = $1 AND c.chat_service_sid = $2 "
        f"AND (($3::text IS NOT NULL AND p.identity = $3) OR ($4::text IS NOT NULL AND p.address = $4)) "
        f"AND ($5::text IS NULL OR p.sid > $5) ORDER BY p.sid LIMIT $6",
        account_sid, chat_service_sid, identity, address, after, limit,
    )
    pairs = []
    for row in rows:
        data = dict(row)
        conversation = Conversation(**{key[2:]: data.pop(key) for key in list(data) if key.startswith("c_")})
        pairs.append((Participant(**data), conversation))
    return pairs
