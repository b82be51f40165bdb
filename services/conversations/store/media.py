"""Media records of the Media Content Service; the bytes are in the blob store under `blob_key`."""

from __future__ import annotations

from services.conversations.domain.identity import Media
from services.conversations.store.base import Connection, build

_MEDIA_COLUMNS = (
    "sid, account_sid, chat_service_sid, content_type, filename, size, category, author, blob_key, date_created, "
    "date_updated"
)


async def insert_media(conn: Connection, *, sid: str, account_sid: str, chat_service_sid: str, content_type: str,
                       filename: str | None, size: int, blob_key: str, author: str | None = None) -> Media:
    row = await conn.fetchrow(
        f"INSERT INTO media (sid, account_sid, chat_service_sid, content_type, filename, size, blob_key, author) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {_MEDIA_COLUMNS}",
        sid, account_sid, chat_service_sid, content_type, filename, size, blob_key, author,
    )
    return build(Media, row)  # type: ignore[no-any-return]


async def media_bytes_of(conn: Connection, *, account_sid: str) -> int:
    """What the account's media files weigh together, in bytes."""
    return int(await conn.fetchval("SELECT coalesce(sum(size), 0) FROM media WHERE account_sid = $1", account_sid))


async def uploads_since(conn: Connection, *, account_sid: str, author: str, seconds: float) -> int:
    """How many files this identity uploaded in the last `seconds`."""
    return int(await conn.fetchval(
        "SELECT count(*) FROM media WHERE account_sid = $1 AND author = $2 "
        "AND date_created > now() - make_interval(secs => $3)", account_sid, author, seconds))


async def lock_account_media(conn: Connection, *, account_sid: str) -> None:
    """Serialize the account's quota checks until the transaction ends, so two uploads can't both fit."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('media quota ' || $1, 0))", account_sid)


async def get_media(conn: Connection, *, chat_service_sid: str, sid: str) -> Media | None:
    row = await conn.fetchrow(f"SELECT {_MEDIA_COLUMNS} FROM media WHERE chat_service_sid = $1 AND sid = $2",
                              chat_service_sid, sid)
    return build(Media, row)  # type: ignore[no-any-return]


async def media_seen_by(conn: Connection, *, media_sid: str, identity: str) -> bool:
    """Whether the media was sent in a conversation this chat identity takes part in."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM message_media mm JOIN messages m ON m.sid = mm.message_sid "
        "JOIN participants p ON p.conversation_sid = m.conversation_sid WHERE mm.media_sid = $1 AND p.identity = $2)",
        media_sid, identity,
    ))


async def media_was_sent(conn: Connection, *, media_sid: str) -> bool:
    """Whether the media is attached to a message of some conversation (not only uploaded)."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM message_media WHERE media_sid = $1)", media_sid))


async def attach_media(conn: Connection, *, message_sid: str, media: list[Media]) -> None:
    await conn.executemany(
        "INSERT INTO message_media (message_sid, media_sid, position) VALUES ($1, $2, $3)",
        [(message_sid, item.sid, position) for position, item in enumerate(media)],
    )


async def media_of_messages(conn: Connection, *, message_sids: list[str]) -> dict[str, list[Media]]:
    """Each message's media in attachment order, for a page of messages in one query."""
    rows = await conn.fetch(
        f"SELECT mm.message_sid, {', '.join('m.' + c for c in _MEDIA_COLUMNS.split(', '))} FROM message_media mm "
        f"JOIN media m ON m.sid = mm.media_sid WHERE mm.message_sid = ANY($1::text[]) ORDER BY mm.message_sid, mm.position",
        message_sids,
    )
    found: dict[str, list[Media]] = {}
    for row in rows:
        values = dict(row)
        found.setdefault(values.pop("message_sid"), []).append(Media(**values))
    return found
