"""Where media bytes live: a blob store behind one small interface, a local directory by default.

Keys are opaque strings chosen by the owning service (e.g. `AC…/ME…`); bytes never travel on the broker.
A docker-compose deployment points the directory at a shared volume; an S3-compatible store is another
implementation of the same protocol.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
# How much of a blob is in memory at once while it streams in or out.
CHUNK_BYTES = 1024 * 1024


class BlobStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the chunks as one blob, whole or not at all (an error from `chunks` leaves nothing);
        returns its size. Holds at most about CHUNK_BYTES in memory, whatever the size."""
        ...

    async def get(self, key: str) -> bytes | None: ...

    async def open(self, key: str) -> AsyncIterator[bytes] | None:
        """The blob's bytes in chunks, or None when there is no such blob."""
        ...

    async def delete(self, key: str) -> None: ...


class InvalidBlobKey(ValueError):
    pass


class LocalDirectoryBlobStore:
    """Blobs as files under one root directory; a write lands whole or not at all (temp file + rename)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise InvalidBlobKey(f"invalid blob key {key!r}")
        return self.root / key

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        await asyncio.to_thread(_write_atomically, path, data)

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        path = self._path(key)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        file = await asyncio.to_thread(open, temporary, "wb")
        size = 0
        try:
            pending = bytearray()
            async for chunk in chunks:
                size += len(chunk)
                pending += chunk
                if len(pending) >= CHUNK_BYTES:
                    await asyncio.to_thread(file.write, bytes(pending))
                    pending.clear()
            await asyncio.to_thread(_finish, file, bytes(pending))
            await asyncio.to_thread(os.replace, temporary, path)
        finally:
            await asyncio.to_thread(file.close)
            await asyncio.to_thread(temporary.unlink, True)
        return size

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def open(self, key: str) -> AsyncIterator[bytes] | None:
        path = self._path(key)
        try:
            file = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            return None
        return _chunks_of(file)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(path.unlink, True)


def _finish(file: BinaryIO, rest: bytes) -> None:
    file.write(rest)
    file.flush()
    os.fsync(file.fileno())


async def _chunks_of(file: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK_BYTES):
            yield chunk
    finally:
        await asyncio.to_thread(file.close)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
