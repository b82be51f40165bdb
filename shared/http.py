"""HTTP conventions shared by every API: Twilio-style error bodies, absolute URLs, dates."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import format_datetime

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import TwilioError

log = logging.getLogger(__name__)


def error_response(error: TwilioError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def install_error_handlers(app: FastAPI) -> None:
    async def on_twilio_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, TwilioError)
        return error_response(error)

    async def on_validation_error(_: Request, error: Exception) -> JSONResponse:
        return error_response(TwilioError(400, 20001, f"Invalid parameter: {error}"))

    async def on_http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 404:
            return error_response(TwilioError(404, 20404, "The requested resource was not found"))
        if error.status_code == 405:
            return error_response(TwilioError(405, 20004, "Method not allowed"))
        return error_response(TwilioError(error.status_code, 20000 + error.status_code, str(error.detail)))

    async def on_unencodable_text(_: Request, error: Exception) -> JSONResponse:
        # PostgreSQL text holds no NUL character; a parameter carrying one is bad input, not a server fault.
        return error_response(TwilioError(400, 20001, "Invalid parameter: text must not contain NUL characters"))

    app.add_exception_handler(TwilioError, on_twilio_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(asyncpg.CharacterNotInRepertoireError, on_unencodable_text)
    app.add_middleware(InternalErrorAnswer)


class InternalErrorAnswer:
    """Answers an unexpected exception with Twilio's 500 body and keeps the connection.

    Not `add_exception_handler(Exception, …)`: Starlette's outermost middleware runs that handler and then
    re-raises, and uvicorn closes a connection whose application raised, so the client's next request on
    the same keep-alive connection would fail. Here the exception ends with the answer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            log.exception("unhandled error", extra={"path": scope.get("path")})
            if started:  # half an answer is out: only closing the connection tells the client
                raise
            answer = error_response(TwilioError(500, 20500, "An internal server error has occurred"))
            await answer(scope, receive, send)


def base_url(request: Request, public_base_url: str | None) -> str:
    """The address clients reach Parley at: the configured public URL, else the request's own."""
    if public_base_url:
        return public_base_url.rstrip("/")
    return str(request.base_url).rstrip("/")


def request_url(request: Request, public_base_url: str | None) -> str:
    """The full URL a caller used, as it would sign it (behind a proxy: rebuilt from the public URL)."""
    url = base_url(request, public_base_url) + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    # isoformat, not strftime: strftime leaves years before 1000 unpadded ("63-05-22").
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def rfc2822(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)
