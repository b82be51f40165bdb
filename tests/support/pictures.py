"""Pictures the tests send as customers' photos: one-colour PNGs made here, so no binary file is kept."""

from __future__ import annotations

import struct
import zlib


def png(width: int = 160, height: int = 100, rgb: tuple[int, int, int] = (11, 92, 173)) -> bytes:
    """A solid-colour PNG (the default is big enough to see in a screenshot)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
