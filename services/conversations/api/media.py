"""`/mcs/v1/Services/{ChatServiceSid}/Media`, as Twilio's Media Content Service: upload (the raw body with its
Content-Type, or multipart/form-data), fetch, content download, and a signed expiring download URL
(`links.content_direct_temporary`) that needs no credentials.

Bytes stream to the blob store (refused while they are read, past PARLEY_MEDIA_MAX_BYTES) and back out of
it, so no file is ever whole in memory. Bytes go to the blob store first and the record second, so a record
never points at missing bytes; a failed record write removes the blob again.
"""

import hmac
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile
from starlette.types import Message

from services.conversations import media_links
from services.conversations import store as conversations_store
from services.conversations.api.deps import base_of
from services.conversations.domain.identity import Media
from services.conversations.domain.media_display import content_headers, is_media_type, served_type
from services.conversations.handlers.media import MediaLimits, record_upload, upload_allowance
from services.conversations.render import identity as render
from services.conversations.store import media as store
from shared.auth.principal import Principal, TokenHolder
from shared.blobs import CHUNK_BYTES, BlobStore
from shared.errors import TwilioError, invalid_parameter, not_found
from shared.runtime import ServiceContext
from shared.sids import new_sid

MEDIA_ROOT = "/mcs/v1/Services/{ChatServiceSid}/Media"
# What a multipart body may carry besides its file: boundaries, part headers, small fields.
MULTIPART_ENVELOPE_BYTES = 64 * 1024


def forbidden() -> TwilioError:
    return TwilioError(403, 20403, "The temporary media URL is invalid or has expired")


def body_within(request: Request, limit: int, refusal: TwilioError) -> Request:
    """The request, whose body is refused (`refusal`) as soon as more than `limit` bytes of it have arrived:
    counted as they come, whatever Content-Length says or the body's own parser does with them."""
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise refusal
        return message

    return Request(request.scope, receive)


async def within(chunks: AsyncIterator[bytes], limit: int, refusal: TwilioError) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise refusal
        yield chunk


async def file_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_BYTES):
        yield chunk


async def open_upload(request: Request, limit: int,
                      refusal: TwilioError) -> tuple[AsyncIterator[bytes], str, str | None]:
    """The upload's bytes (a stream, refused past `limit`), content type and file name, from a raw body or the
    form's file part. A multipart body is parsed first (its file spooled to disk), a raw one is streamed."""
    content_type = request.headers.get("content-type", "").strip()
    if content_type.lower().startswith("multipart/form-data"):
        try:
            form = await body_within(request, limit + MULTIPART_ENVELOPE_BYTES, refusal).form()
        except TwilioError:
            raise
        except Exception as error:  # starlette raises several types for a broken or oversized body
            raise invalid_parameter(f"The multipart body could not be parsed: {error}") from error
        upload = next((value for _, value in form.multi_items() if isinstance(value, UploadFile)), None)
        if upload is None:
            raise invalid_parameter("The multipart body carries no file part")
        part_type = (upload.content_type or "application/octet-stream").split(";")[0].strip()
        return within(file_chunks(upload), limit, refusal), part_type, upload.filename
    if not content_type:
        raise invalid_parameter("Content-Type is required: the media's own type, or multipart/form-data")
    filename = request.query_params.get("Filename") or request.query_params.get("filename")
    return body_within(request, limit, refusal).stream(), content_type.split(";")[0].strip(), filename


def media_router(context: ServiceContext, blobs: BlobStore) -> APIRouter:
    router = APIRouter(prefix=MEDIA_ROOT)
    # The account, or a chat user in its grant's service: it uploads as itself and reads the media it uploaded
    # or that was sent in a conversation it is in.
    Caller = Annotated[Principal, Depends(context.authenticate.principal)]
    pool = context.pool
    lifetime = context.settings.media_url_lifetime_seconds
    directory = context.authenticate.directory
    limits = MediaLimits(max_bytes=context.settings.media_max_bytes, quota=context.settings.media_quota_bytes,
                         uploads_per_minute=context.settings.media_uploads_per_minute)

    async def temporary_url(request: Request, media: Media, auth_token: str) -> str:
        return media_links.temporary_url(base_of(context, request), media, auth_token, lifetime_seconds=lifetime)

    async def service_or_404(caller: Principal, service_sid: str) -> None:
        async with pool.acquire() as conn:
            if not await conversations_store.service_exists(conn, account_sid=caller.sid, sid=service_sid):
                raise not_found(f"Service {service_sid}")
            holder = caller.token
            if holder is not None and service_sid != (holder.chat_service_sid or await conversations_store.ensure_default_service(
                    conn, account_sid=caller.sid)):
                raise not_found(f"Service {service_sid}")

    async def media_or_404(caller: Principal, service_sid: str, sid: str) -> Media:
        await service_or_404(caller, service_sid)
        found = await store.get_media(pool, chat_service_sid=service_sid, sid=sid)
        if found is None or found.account_sid != caller.sid:
            raise not_found(f"Media {sid}")
        if caller.token is not None and not await readable_by(caller.token, found):
            raise not_found(f"Media {sid}")
        return found

    async def readable_by(holder: TokenHolder, media: Media) -> bool:
        """Its uploader; a participant of a conversation it was sent in; a supervisor, who may read every
        conversation of the service (chat_users.py), for media sent in any of them."""
        if media.author == holder.identity:
            return True
        async with pool.acquire() as conn:
            if await store.media_seen_by(conn, media_sid=media.sid, identity=holder.identity):
                return True
            return holder.supervises and await store.media_was_sent(conn, media_sid=media.sid)

    def content_response(media: Media, chunks: AsyncIterator[bytes], *, max_age: int = 0) -> Response:
        headers = {"Cache-Control": f"private, max-age={max_age}", "Content-Length": str(media.size),
                   **content_headers(media.content_type, media.filename)}
        return StreamingResponse(chunks, media_type=served_type(media.content_type), headers=headers)

    @router.post("", status_code=201)
    async def upload(ChatServiceSid: str, request: Request, account: Caller) -> dict[str, Any]:
        await service_or_404(account, ChatServiceSid)
        uploader = account.token.identity if account.token else None
        limit, refusal = await upload_allowance(pool, limits, account_sid=account.sid, uploader=uploader)
        chunks, content_type, filename = await open_upload(request, limit, refusal)
        if not is_media_type(content_type):
            raise invalid_parameter(f"Content-Type '{content_type}' is not a media type")
        if filename is not None and len(filename) > 1024:
            raise invalid_parameter("Filename must be at most 1024 characters")
        sid = new_sid("ME")
        key = f"{account.sid}/{sid}"
        size = await blobs.put_stream(key, chunks)  # the bytes go straight to the store, never whole in memory
        if size == 0:
            await blobs.delete(key)
            raise invalid_parameter("The media content is empty")
        try:
            media = await record_upload(pool, limits, sid=sid, account_sid=account.sid, chat_service_sid=ChatServiceSid,
                                        content_type=content_type, filename=filename, size=size, blob_key=key,
                                        uploader=uploader)
        except BaseException:
            await blobs.delete(key)
            raise
        return render.media(media, base_of(context, request),
                            temporary_url=await temporary_url(request, media, account.account.auth_token))

    @router.get("/{Sid}")
    async def fetch(ChatServiceSid: str, Sid: str, request: Request, account: Caller) -> dict[str, Any]:
        media = await media_or_404(account, ChatServiceSid, Sid)
        return render.media(media, base_of(context, request),
                            temporary_url=await temporary_url(request, media, account.account.auth_token))

    @router.get("/{Sid}/Content")
    async def content(ChatServiceSid: str, Sid: str, account: Caller) -> Response:
        media = await media_or_404(account, ChatServiceSid, Sid)
        chunks = await blobs.open(media.blob_key)
        if chunks is None:
            raise not_found(f"Content of media {Sid}")
        return content_response(media, chunks)

    @router.get("/{Sid}/Content/Direct")
    async def direct_content(ChatServiceSid: str, Sid: str, request: Request) -> Response:
        """No credentials: the signature (keyed by the account's auth token) and the expiry are the permission.
        Every refusal looks the same, so the URL leaks nothing about what exists."""
        try:
            expires = int(request.query_params.get("Expires", ""))
        except ValueError as error:
            raise forbidden() from error
        given = request.query_params.get("Signature", "")
        remaining = expires - time.time()
        if remaining < 0:
            raise forbidden()
        media = await store.get_media(pool, chat_service_sid=ChatServiceSid, sid=Sid)
        account = await directory.get(media.account_sid) if media is not None else None
        if media is None or account is None or account.status != "active":
            raise forbidden()
        if not hmac.compare_digest(given, media_links.signature(account.auth_token, media, expires)):
            raise forbidden()
        chunks = await blobs.open(media.blob_key)
        if chunks is None:
            raise forbidden()
        return content_response(media, chunks, max_age=int(remaining))

    return router
