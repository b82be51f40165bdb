"""Twilio-style errors: every failure a client sees has `code`, `message`, `more_info` and `status`."""

from __future__ import annotations

from typing import Any

# What a 503 tells a client to wait before trying again: the outages it answers (a database or broker restarting,
# a service not answering) last seconds, and a retry that finds one still under way is told again.
RETRY_AFTER_SECONDS = 5


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}  # e.g. a 429's Retry-After, a 401's WWW-Authenticate

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


def invalid_parameter(message: str, code: int = 20001) -> TwilioError:
    return TwilioError(400, code, message)


def missing_parameter(name: str) -> TwilioError:
    return TwilioError(400, 20001, f"Missing required parameter {name} in the post body")


def not_found(what: str = "The requested resource") -> TwilioError:
    return TwilioError(404, 20404, f"{what} was not found")


def unauthorized() -> TwilioError:
    return TwilioError(401, 20003, "Authenticate")


def conflict(message: str, code: int) -> TwilioError:
    return TwilioError(409, code, message)


def service_unavailable(message: str, *, retry_after: int = RETRY_AFTER_SECONDS) -> TwilioError:
    """Twilio's 20503: nothing was done, and the same request may be made again (with `Retry-After`)."""
    return TwilioError(503, 20503, message, headers={"Retry-After": str(retry_after)})
