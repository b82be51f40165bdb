"""The browser apps built by `make web` (web/dist), served at /desk/, /supervisor/ and /webchat/.

Each app is a folder of web/dist: its `index.html` answers the app's root (and any extension-less
path below it, so the apps may route on the client), its other files are served as they are.
Vite's content-hashed `assets/` never change, so browsers keep them; everything else is revalidated.
Each page carries a Content-Security-Policy that allows script only from Parley's origin (none inline), so
a script that reaches the page (in a message, a name, an attachment) cannot run, and a page that may not be
framed says so.
The ingress composition root registers `web_apps_router(context.settings)`.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from shared.errors import TwilioError, not_found
from shared.http import error_response
from shared.settings import Settings

APPS = ("desk", "supervisor", "webchat")
NOT_BUILT = "web apps not built: run make web"

# Explicit, so answers never depend on the machine's mime.types.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def repository_dist_directory() -> Path:
    """web/dist of the repository this module lives in."""
    return Path(__file__).resolve().parents[2] / "web" / "dist"


def web_dist_directory(settings: Settings) -> Path:
    configured = settings.web_dist_directory
    return Path(configured).resolve() if configured else repository_dist_directory()


def content_type(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _not_built() -> Response:
    return error_response(TwilioError(503, 20503, NOT_BUILT))


def page_policy(settings: Settings, app: str) -> dict[str, str]:
    """The headers of an app's HTML page: what it may load and run, who may frame it, what it tells others."""
    own = "'self'"
    public = settings.public_base_url
    if public:  # media links and sockets may name the public URL rather than the page's own origin
        parts = urlsplit(public)
        own = f"'self' {parts.scheme}://{parts.netloc}"
    ancestors = settings.webchat_frame_ancestors if app == "webchat" else "'none'"
    policy = "; ".join((
        "default-src 'self'", f"script-src {own}", f"style-src {own}", f"img-src {own} data: blob:",
        f"media-src {own} blob:", f"connect-src {own}", f"font-src {own}", "object-src 'none'", "base-uri 'none'",
        "form-action 'self'", f"frame-ancestors {ancestors}",
    ))
    headers = {"Content-Security-Policy": policy, "Referrer-Policy": "no-referrer"}
    if app != "webchat":
        headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers that predate it
    return headers


def _file(path: Path, *, cache_control: str, page: dict[str, str] | None = None) -> FileResponse:
    return FileResponse(path, media_type=content_type(path),
                        headers={"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff", **(page or {})})


def _resolve(app_root: Path, path: str) -> Path | None:
    """The file `path` names inside the app's folder; None for anything reaching outside it."""
    parts = PurePosixPath(path).parts
    if any(part in ("..", "") or part.startswith(".") for part in parts) or "\\" in path or "\x00" in path:
        return None
    candidate = (app_root / path).resolve()
    return candidate if candidate.is_relative_to(app_root.resolve()) else None


def web_apps_router(settings: Settings, *, dist_directory: Path | None = None) -> APIRouter:
    """Routes for every app in APPS; they answer 503 (NOT_BUILT) until `make web` has built it."""
    dist = dist_directory.resolve() if dist_directory is not None else web_dist_directory(settings)
    router = APIRouter(include_in_schema=False)

    def add_app(app: str) -> None:
        app_root = dist / app
        index = app_root / "index.html"
        policy = page_policy(settings, app)

        async def redirect(request: Request) -> Response:
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"/{app}/{query}", status_code=308)

        async def serve(path: str = "") -> Response:
            if not index.is_file():
                return _not_built()
            if path in ("", "index.html"):
                return _file(index, cache_control=REVALIDATE, page=policy)
            found = _resolve(app_root, path)
            if found is not None and found.is_file():
                if found.suffix.lower() == ".html":
                    return _file(found, cache_control=REVALIDATE, page=policy)
                immutable = PurePosixPath(path).parts[0] == "assets"
                return _file(found, cache_control=IMMUTABLE if immutable else REVALIDATE)
            client_route = PurePosixPath(path).parts[0] != "assets" and "." not in PurePosixPath(path).name
            if found is not None and client_route:
                return _file(index, cache_control=REVALIDATE, page=policy)  # a client-side route of the app
            return error_response(not_found(f"The file /{app}/{path}"))

        router.add_api_route(f"/{app}", redirect, methods=["GET", "HEAD"])
        router.add_api_route(f"/{app}/", serve, methods=["GET", "HEAD"])
        router.add_api_route(f"/{app}/{{path:path}}", serve, methods=["GET", "HEAD"])

    for app in APPS:
        add_app(app)
    return router
