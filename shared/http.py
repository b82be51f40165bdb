"""HTTP conventions shared by every API: Twilio-style error bodies, absolute URLs, dates."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import TwilioError, service_unavailable
from shared.outages import is_infrastructure_failure

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


# Every API answers this while the database or broker it needs is down: nothing was done, ask again.
UNAVAILABLE_MESSAGE = "Service unavailable: a database or broker Parley depends on cannot be reached; retry later"


class _OutageAnswers:
    """Requests answered 503 for an outage, told in one line when they start and one every `every` seconds while
    they go on, with their number: a traceback per request would bury everything else in the log."""

    def __init__(self, every: float = 30.0) -> None:
        self._every = every
        self._last_said = float("-inf")
        self._unsaid = 0

    def answered(self, error: BaseException, path: str | None) -> None:
        self._unsaid += 1
        now = time.monotonic()
        if now - self._last_said >= self._every:
            log.warning("infrastructure unavailable: %d request(s) answered 503 since the last line: %s: %s",
                        self._unsaid, type(error).__name__, error, extra={"path": path})
            self._last_said = now
            self._unsaid = 0


class InternalErrorAnswer:
    """Answers an unexpected exception with Twilio's 500 body and keeps the connection; an outage of the database
    or the broker (shared/outages.py) is no fault of the request, and gets 503 20503 with `Retry-After` instead.

    Not `add_exception_handler(Exception, …)`: Starlette's outermost middleware runs that handler and then
    re-raises, and uvicorn closes a connection whose application raised, so the client's next request on
    the same keep-alive connection would fail. Here the exception ends with the answer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._outage_answers = _OutageAnswers()

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
        except Exception as error:
            outage = is_infrastructure_failure(error)
            if outage:
                self._outage_answers.answered(error, scope.get("path"))
            else:
                log.exception("unhandled error", extra={"path": scope.get("path")})
            if started:  # half an answer is out: only closing the connection tells the client
                raise
            answer = error_response(service_unavailable(UNAVAILABLE_MESSAGE) if outage
                                    else TwilioError(500, 20500, "An internal server error has occurred"))
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
