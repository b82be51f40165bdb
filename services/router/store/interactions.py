"""Flex Interactions: interactions, their channel, its participants, invites, transfers and tasks."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import asyncpg

from services.router.domain.interactions import (
    ChannelParticipant,
    Interaction,
    InteractionChannel,
    Invite,
    RoutingRequest,
    Transfer,
)
from services.router.store.base import Connection, Keyset, assignments, build, fetch_page
from shared.sids import new_sid
from shared.sql import Query

INTERACTION_COLUMNS = "sid, account_sid, interaction_context_sid, webhook_ttid, date_created, date_updated"
CHANNEL_COLUMNS = ("sid, account_sid, interaction_sid, type, initiated_by, status, media_channel_sid, workspace_sid, "
                   "error_code, error_message, date_created, date_updated")
PARTICIPANT_COLUMNS = ("sid, account_sid, interaction_sid, channel_sid, type, status, identity, media_properties, "
                       "task_sid, worker_sid, reservation_sid, date_created, date_updated")
INVITE_COLUMNS = "sid, account_sid, interaction_sid, channel_sid, routing, date_created, date_updated"
TRANSFER_COLUMNS = ("sid, account_sid, interaction_sid, channel_sid, type, status, from_participant_sid, to_target, "
                    "date_created, date_updated")


class ConversationTaken(Exception):
    """Another open channel already routes this conversation."""


async def insert_interaction(conn: Connection, *, account_sid: str, interaction_context_sid: str | None,
                             webhook_ttid: str | None) -> Interaction:
    row = await conn.fetchrow(
        f"INSERT INTO interactions (sid, account_sid, interaction_context_sid, webhook_ttid) VALUES ($1, $2, $3, $4) "
        f"RETURNING {INTERACTION_COLUMNS}", new_sid("KD"), account_sid, interaction_context_sid, webhook_ttid)
    return build(Interaction, row)  # type: ignore[no-any-return]


async def get_interaction(conn: Connection, *, account_sid: str, sid: str) -> Interaction | None:
    row = await conn.fetchrow(f"SELECT {INTERACTION_COLUMNS} FROM interactions WHERE sid = $1 AND account_sid = $2",
                              sid, account_sid)
    return build(Interaction, row)  # type: ignore[no-any-return]


async def update_interaction(conn: Connection, *, sid: str, values: dict[str, Any]) -> Interaction:
    sets, params = assignments(values, ["webhook_ttid"])
    row = await conn.fetchrow(f"UPDATE interactions SET {sets} WHERE sid = $1 RETURNING {INTERACTION_COLUMNS}",
                              sid, *params)
    return build(Interaction, row)  # type: ignore[no-any-return]


async def insert_channel(conn: Connection, *, account_sid: str, interaction_sid: str, type: str, initiated_by: str,
                         media_channel_sid: str | None, workspace_sid: str | None, status: str) -> InteractionChannel:
    try:
        async with conn.transaction():  # type: ignore[union-attr]
            row = await conn.fetchrow(
                f"INSERT INTO interaction_channels (sid, account_sid, interaction_sid, type, initiated_by, "
                f"media_channel_sid, workspace_sid, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                f"RETURNING {CHANNEL_COLUMNS}",
                new_sid("UO"), account_sid, interaction_sid, type, initiated_by, media_channel_sid, workspace_sid,
                status)
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == "interaction_channels_open_conversation":
            raise ConversationTaken(media_channel_sid) from error
        raise
    return build(InteractionChannel, row)  # type: ignore[no-any-return]


async def get_channel(conn: Connection, *, account_sid: str, interaction_sid: str | None = None,
                      sid: str, for_update: bool = False) -> InteractionChannel | None:
    row = await conn.fetchrow(
        f"SELECT {CHANNEL_COLUMNS} FROM interaction_channels WHERE sid = $1 AND account_sid = $2 "
        f"AND ($3::text IS NULL OR interaction_sid = $3){' FOR UPDATE' if for_update else ''}",
        sid, account_sid, interaction_sid)
    return build(InteractionChannel, row)  # type: ignore[no-any-return]


async def lock_channel_unless_busy(conn: Connection, *, sid: str) -> InteractionChannel | None:
    """The channel locked, or None when another transaction holds it (it is acting on the channel already)."""
    row = await conn.fetchrow(f"SELECT {CHANNEL_COLUMNS} FROM interaction_channels WHERE sid = $1 "
                              f"FOR UPDATE SKIP LOCKED", sid)
    return build(InteractionChannel, row)  # type: ignore[no-any-return]


async def channel_of_interaction(conn: Connection, *, interaction_sid: str) -> InteractionChannel | None:
    row = await conn.fetchrow(f"SELECT {CHANNEL_COLUMNS} FROM interaction_channels WHERE interaction_sid = $1",
                              interaction_sid)
    return build(InteractionChannel, row)  # type: ignore[no-any-return]


async def open_channel_of_conversation(conn: Connection, *, account_sid: str,
                                       conversation_sid: str) -> InteractionChannel | None:
    row = await conn.fetchrow(
        f"SELECT {CHANNEL_COLUMNS} FROM interaction_channels WHERE media_channel_sid = $1 AND account_sid = $2 "
        f"AND status NOT IN ('closed', 'failed')", conversation_sid, account_sid)
    return build(InteractionChannel, row)  # type: ignore[no-any-return]


async def update_channel(conn: Connection, *, sid: str, values: dict[str, Any]) -> InteractionChannel:
    sets, params = assignments(values, ["status", "media_channel_sid", "error_code", "error_message"])
    row = await conn.fetchrow(f"UPDATE interaction_channels SET {sets} WHERE sid = $1 RETURNING {CHANNEL_COLUMNS}",
                              sid, *params)
    return build(InteractionChannel, row)  # type: ignore[no-any-return]


async def set_channel_routing(conn: Connection, *, sid: str, routing: RoutingRequest) -> None:
    """The routing of the channel's latest task (its attributes are the task's own, so not kept here)."""
    kept = {key: value for key, value in asdict(routing).items() if key != "attributes"}
    await conn.execute("UPDATE interaction_channels SET routing = $2::jsonb WHERE sid = $1", sid, kept)


async def get_channel_routing(conn: Connection, *, sid: str) -> RoutingRequest | None:
    kept = await conn.fetchval("SELECT routing FROM interaction_channels WHERE sid = $1", sid)
    return RoutingRequest(**kept) if kept is not None else None


async def has_open_task(conn: Connection, *, channel_sid: str) -> bool:
    """Some task of the channel still waits for an agent or is held by one."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM interaction_tasks made JOIN tasks ON tasks.sid = made.task_sid "
        "WHERE made.channel_sid = $1 AND tasks.assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping'))",
        channel_sid))


async def is_staff_identity(conn: Connection, *, channel_sid: str, identity: str) -> bool:
    """The identity is one of the channel's agents, supervisors or other non-customer participants, whether or
    not they are still on it."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM interaction_participants WHERE channel_sid = $1 AND type <> 'customer' "
        "AND identity = $2)", channel_sid, identity))


async def insert_participant(conn: Connection, *, account_sid: str, channel: InteractionChannel, type: str,
                             identity: str | None, media_properties: str = "{}", task_sid: str | None = None,
                             worker_sid: str | None = None, reservation_sid: str | None = None) -> ChannelParticipant:
    row = await conn.fetchrow(
        f"INSERT INTO interaction_participants (sid, account_sid, interaction_sid, channel_sid, type, identity, "
        f"media_properties, task_sid, worker_sid, reservation_sid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        f"RETURNING {PARTICIPANT_COLUMNS}",
        new_sid("UT"), account_sid, channel.interaction_sid, channel.sid, type, identity, media_properties, task_sid,
        worker_sid, reservation_sid)
    return build(ChannelParticipant, row)  # type: ignore[no-any-return]


async def get_participant(conn: Connection, *, channel_sid: str, sid: str,
                          for_update: bool = False) -> ChannelParticipant | None:
    row = await conn.fetchrow(
        f"SELECT {PARTICIPANT_COLUMNS} FROM interaction_participants WHERE sid = $1 AND channel_sid = $2"
        f"{' FOR UPDATE' if for_update else ''}", sid, channel_sid)
    return build(ChannelParticipant, row)  # type: ignore[no-any-return]


async def list_participants(conn: Connection, *, channel_sid: str, keyset: Keyset) -> list[ChannelParticipant]:
    rows = await fetch_page(conn, select=f"SELECT {PARTICIPANT_COLUMNS} FROM interaction_participants",
                            query=Query().where("channel_sid = {}", channel_sid), keyset=keyset,
                            date_column="date_created", sid_column="sid")
    return [build(ChannelParticipant, row) for row in rows]


async def agents_of_channel(conn: Connection, *, channel_sid: str, statuses: list[str]) -> list[ChannelParticipant]:
    rows = await conn.fetch(
        f"SELECT {PARTICIPANT_COLUMNS} FROM interaction_participants WHERE channel_sid = $1 AND type = 'agent' "
        f"AND status = ANY($2::text[]) ORDER BY date_created, sid", channel_sid, statuses)
    return [build(ChannelParticipant, row) for row in rows]


async def set_participant_status(conn: Connection, *, sid: str, status: str) -> ChannelParticipant:
    row = await conn.fetchrow(
        f"UPDATE interaction_participants SET status = $2, date_updated = clock_timestamp() WHERE sid = $1 "
        f"RETURNING {PARTICIPANT_COLUMNS}", sid, status)
    return build(ChannelParticipant, row)  # type: ignore[no-any-return]


async def insert_invite(conn: Connection, *, account_sid: str, channel: InteractionChannel, routing: str) -> Invite:
    row = await conn.fetchrow(
        f"INSERT INTO interaction_invites (sid, account_sid, interaction_sid, channel_sid, routing) "
        f"VALUES ($1, $2, $3, $4, $5) RETURNING {INVITE_COLUMNS}",
        new_sid("KG"), account_sid, channel.interaction_sid, channel.sid, routing)
    return build(Invite, row)  # type: ignore[no-any-return]


async def list_invites(conn: Connection, *, channel_sid: str, keyset: Keyset) -> list[Invite]:
    rows = await fetch_page(conn, select=f"SELECT {INVITE_COLUMNS} FROM interaction_invites",
                            query=Query().where("channel_sid = {}", channel_sid), keyset=keyset,
                            date_column="date_created", sid_column="sid")
    return [build(Invite, row) for row in rows]


async def insert_transfer(conn: Connection, *, account_sid: str, channel: InteractionChannel, type: str,
                          from_participant_sid: str, to_target: str) -> Transfer:
    row = await conn.fetchrow(
        f"INSERT INTO interaction_transfers (sid, account_sid, interaction_sid, channel_sid, type, "
        f"from_participant_sid, to_target) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {TRANSFER_COLUMNS}",
        new_sid("UX"), account_sid, channel.interaction_sid, channel.sid, type, from_participant_sid, to_target)
    return build(Transfer, row)  # type: ignore[no-any-return]


async def get_transfer(conn: Connection, *, channel_sid: str, sid: str) -> Transfer | None:
    row = await conn.fetchrow(f"SELECT {TRANSFER_COLUMNS} FROM interaction_transfers WHERE sid = $1 AND channel_sid = $2",
                              sid, channel_sid)
    return build(Transfer, row)  # type: ignore[no-any-return]


async def set_transfer_status(conn: Connection, *, sid: str, status: str) -> Transfer:
    row = await conn.fetchrow(
        f"UPDATE interaction_transfers SET status = $2, date_updated = clock_timestamp() WHERE sid = $1 "
        f"RETURNING {TRANSFER_COLUMNS}", sid, status)
    return build(Transfer, row)  # type: ignore[no-any-return]


async def insert_interaction_task(conn: Connection, *, task_sid: str, channel_sid: str, workspace_sid: str,
                                  invite_sid: str | None = None, transfer_sid: str | None = None) -> None:
    await conn.execute(
        "INSERT INTO interaction_tasks (task_sid, channel_sid, workspace_sid, invite_sid, transfer_sid) "
        "VALUES ($1, $2, $3, $4, $5)", task_sid, channel_sid, workspace_sid, invite_sid, transfer_sid)


async def get_interaction_task(conn: Connection, *, task_sid: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT task_sid, channel_sid, workspace_sid, invite_sid, transfer_sid "
                              "FROM interaction_tasks WHERE task_sid = $1", task_sid)
    return dict(row) if row is not None else None


async def task_of_transfer(conn: Connection, *, transfer_sid: str) -> tuple[str, str] | None:
    """(workspace SID, task SID) of the task a transfer made."""
    row = await conn.fetchrow("SELECT workspace_sid, task_sid FROM interaction_tasks WHERE transfer_sid = $1",
                              transfer_sid)
    return (row["workspace_sid"], row["task_sid"]) if row is not None else None


async def tasks_of_channel(conn: Connection, *, channel_sid: str) -> list[tuple[str, str]]:
    """(workspace SID, task SID) of every task made for the channel, oldest first."""
    rows = await conn.fetch("SELECT workspace_sid, task_sid FROM interaction_tasks WHERE channel_sid = $1 "
                            "ORDER BY date_created", channel_sid)
    return [(row["workspace_sid"], row["task_sid"]) for row in rows]


async def hold_capacity(conn: Connection, *, worker_sid: str, task_channel_sid: str) -> None:
    """Count a task the worker asked for even when the channel is not ready (its release balances it)."""
    await conn.execute("UPDATE worker_channels SET assigned_tasks = assigned_tasks + 1 "
                       "WHERE worker_sid = $1 AND task_channel_sid = $2", worker_sid, task_channel_sid)
