"""Inbound media: each file of a customer's message fetched with the provider's credentials, before publishing,
and stored in the shared blob store, so the message on the broker names its files by blob key, never by bytes.

Twilio's `MediaUrlN` answers (with Basic auth of the provider's account) either the bytes or a redirect to them;
Meta's media id answers (with the provider's Bearer token) a JSON object whose `url` gives the bytes. Every request
goes through the egress client, a redirect's target included. A file that cannot be fetched is noted on its item
(`error`) and the message goes on without it: losing the text of a message is worse than losing a photo.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from urllib.parse import urljoin, urlsplit

import httpx

from services.ingress.domain.providers import TWILIO, WHATSAPP_CLOUD, Provider
from shared.blobs import BlobStore
from shared.contracts.ingress import InboundMedia, InboundMessage
from shared.egress import EgressRefused
from shared.outbound_http import AnswerTooLarge, OutboundHttp

log = logging.getLogger(__name__)

# A provider gives up on a webhook after ~15 s: the files (fetched at once) get this, the broker confirm up to 8 s.
FETCH_TIMEOUT_SECONDS = 5.0
_REDIRECTS = (301, 302, 303, 307, 308)
_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


class MediaFetchFailed(Exception):
    pass


def blob_key(account_sid: str, provider_sid: str, channel_message_sid: str, index: int) -> str:
    """The same for a provider's retry of one message, so a retry overwrites its files rather than adding more."""
    digest = hashlib.sha256(f"{provider_sid}/{channel_message_sid}".encode()).hexdigest()[:32]
    return f"{account_sid}/inbound/{provider_sid}/{digest}/{index}"


class InboundMediaFetcher:
    def __init__(self, outbound: OutboundHttp, blobs: BlobStore, *, max_bytes: int,
                 timeout: float = FETCH_TIMEOUT_SECONDS) -> None:
        self._outbound = outbound
        self._max_bytes = max_bytes
        self._blobs = blobs
        self._timeout = timeout

    async def fetch_all(self, provider: Provider, inbound: InboundMessage) -> InboundMessage:
        """The message with each media item stored (`blob_key`, `size`) or marked failed (`error`)."""
        if not inbound.media or all(item.blob_key for item in inbound.media):
            return inbound
        media = await asyncio.gather(*(
            self._fetch_one(provider, inbound, index, item) for index, item in enumerate(inbound.media)))
        return inbound.model_copy(update={"media": list(media)})

    async def _fetch_one(self, provider: Provider, inbound: InboundMessage, index: int,
                         item: InboundMedia) -> InboundMedia:
        if item.blob_key:
            return item
        try:
            data, content_type, filename = await asyncio.wait_for(self._download(provider, item.url), self._timeout)
            if not data:
                raise MediaFetchFailed("the provider answered an empty file")
            key = blob_key(provider.account_sid, provider.sid, inbound.channel_message_sid, index)
            await self._blobs.put(key, data)
        except (MediaFetchFailed, EgressRefused, httpx.HTTPError, TimeoutError, OSError, ValueError) as error:
            reason = f"{type(error).__name__}: {error}".rstrip(": ") if not isinstance(error, MediaFetchFailed) \
                else str(error)
            log.warning("inbound media not fetched: %s", reason, extra={
                "provider_sid": provider.sid, "channel_message_sid": inbound.channel_message_sid, "url": item.url})
            return item.model_copy(update={"error": f"Media could not be fetched: {reason}"[:1000]})
        return item.model_copy(update={
            "blob_key": key, "size": len(data), "content_type": content_type or item.content_type,
            "filename": item.filename or filename,
        })

    async def _download(self, provider: Provider, url: str) -> tuple[bytes, str | None, str | None]:
        if provider.type == WHATSAPP_CLOUD:
            token = provider.credentials.get("access_token")
            if not token:
                raise MediaFetchFailed(f"provider {provider.sid} has no Credentials.AccessToken to fetch media with")
            headers = {"Authorization": f"Bearer {token}"}
            described = await self._get(url, headers=headers, auth=None)
            try:
                location = json.loads(described.content).get("url")
            except (ValueError, AttributeError) as error:
                raise MediaFetchFailed("the media object is not JSON with a url") from error
            if not isinstance(location, str) or not location:
                raise MediaFetchFailed("the media object names no url")
            response = await self._get(location, headers=headers, auth=None)
        elif provider.type == TWILIO:
            account_sid = provider.credentials.get("account_sid", "")
            response = await self._get(url, headers=None, auth=(account_sid, provider.auth_token or ""))
        else:
            raise MediaFetchFailed(f"provider type {provider.type} cannot fetch media")
        content_type = response.headers.get("content-type", "").split(";")[0].strip() or None
        if content_type and "/" not in content_type:
            content_type = None
        match = _FILENAME.search(response.headers.get("content-disposition", ""))
        return response.content, content_type, match.group(1)[:1024] if match else None

    async def _get(self, url: str, *, headers: dict[str, str] | None, auth: tuple[str, str] | None) -> httpx.Response:
        """GET, following one redirect (re-checked by the egress policy); credentials only go to the same origin."""
        response = await self._request(url, headers=headers, auth=auth)
        if response.status_code in _REDIRECTS and response.headers.get("location"):
            target = urljoin(url, response.headers["location"])
            same_origin = _origin(target) == _origin(url)
            response = await self._request(target, headers=headers if same_origin else None,
                                           auth=auth if same_origin else None)
        if response.status_code != 200:
            raise MediaFetchFailed(f"the provider answered HTTP {response.status_code} for {url}")
        return response

    async def _request(self, url: str, *, headers: dict[str, str] | None,
                       auth: tuple[str, str] | None) -> httpx.Response:
        try:
            return await self._outbound.request("GET", url, timeout=self._timeout, headers=headers, auth=auth,
                                                max_bytes=self._max_bytes)
        except AnswerTooLarge as error:
            raise MediaFetchFailed(f"the file is larger than the {self._max_bytes} bytes allowed") from error


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
