"""How a stored media file may be shown by a browser that opens its content URL.

Anyone may upload media (a web-chat guest needs no credentials), and the content is served on Parley's own
origin, where the desk, the supervisor view and the demo widget keep their tokens. A file a browser would run
(HTML, SVG, XML, JavaScript, or anything it might sniff into one) must never render there. So only the raster
image types every browser decodes without running anything are shown inline; every other file is a download,
sandboxed should a browser render it anyway, and no answer may be sniffed into another type.
"""

import re
from urllib.parse import quote

# Raster images: decoded, never executed, so they may show inline (and in an <img>).
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})

# A unique origin with no script, no forms and no plugins, for any answer a browser renders despite the download.
SANDBOX = "sandbox"


# RFC 6838's restricted names: what a Content-Type header can carry back without quoting or injection.
MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")


def is_media_type(content_type: str) -> bool:
    return MEDIA_TYPE.fullmatch(content_type) is not None


def essence(content_type: str) -> str:
    """The type and subtype alone, lower-cased: `Image/PNG; charset=x` → `image/png`."""
    return content_type.split(";", 1)[0].strip().lower()


def shows_inline(content_type: str) -> bool:
    return essence(content_type) in INLINE_TYPES


def served_type(content_type: str) -> str:
    """The Content-Type to answer with: the stored one, unless it is no media type (inbound media's type comes
    from a provider's form field), then opaque bytes."""
    return content_type if is_media_type(essence(content_type)) else "application/octet-stream"


def content_headers(content_type: str, filename: str | None) -> dict[str, str]:
    """The headers every media content answer carries, besides its Content-Type and caching."""
    headers = {"X-Content-Type-Options": "nosniff"}
    name = f"; filename*=UTF-8''{quote(filename, safe='')}" if filename else ""
    if shows_inline(content_type):
        if name:
            headers["Content-Disposition"] = f"inline{name}"
        return headers
    headers["Content-Disposition"] = f"attachment{name}"
    headers["Content-Security-Policy"] = SANDBOX
    return headers
