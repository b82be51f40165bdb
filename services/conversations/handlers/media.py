"""Uploading media: what an upload may weigh now (the account's quota, the uploader's rate), and recording it
once its bytes are stored. Each opens its own unit of work; the route streams the bytes between the two."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.conversations.domain.identity import Media
from services.conversations.domain.media_limits import (
    UPLOAD_RATE_WINDOW_SECONDS,
    fits,
    quota_used_up,
    upload_limit,
    uploading_too_often,
)
from services.conversations.store import media as store
from shared.errors import TwilioError


@dataclass(frozen=True)
class MediaLimits:
    max_bytes: int
    quota: int  # 0: none
    uploads_per_minute: int  # 0: no limit


async def upload_allowance(pool: asyncpg.Pool, limits: MediaLimits, *, account_sid: str,
                           uploader: str | None) -> tuple[int, TwilioError]:
    """The most this upload may carry, and the refusal past it; a token holder (`uploader`) uploading too
    often is refused before a byte is read."""
    async with pool.acquire() as conn:
        if uploader is not None and limits.uploads_per_minute and await store.uploads_since(
                conn, account_sid=account_sid, author=uploader,
                seconds=UPLOAD_RATE_WINDOW_SECONDS) >= limits.uploads_per_minute:
            raise uploading_too_often(limits.uploads_per_minute)
        used = await store.media_bytes_of(conn, account_sid=account_sid) if limits.quota > 0 else 0
    return upload_limit(max_bytes=limits.max_bytes, quota=limits.quota, used=used)


async def record_upload(pool: asyncpg.Pool, limits: MediaLimits, *, sid: str, account_sid: str,
                        chat_service_sid: str, content_type: str, filename: str | None, size: int, blob_key: str,
                        uploader: str | None) -> Media:
    """The media record of stored bytes; checked against the quota again under the account's lock, since
    another upload may have taken the room while these bytes streamed in."""
    async with pool.acquire() as conn, conn.transaction():
        await store.lock_account_media(conn, account_sid=account_sid)
        if not fits(quota=limits.quota, used=await store.media_bytes_of(conn, account_sid=account_sid), size=size):
            raise quota_used_up(limits.quota)
        return await store.insert_media(conn, sid=sid, account_sid=account_sid, chat_service_sid=chat_service_sid,
                                        content_type=content_type, filename=filename, size=size, blob_key=blob_key,
                                        author=uploader)
