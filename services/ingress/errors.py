"""The Twilio-style errors particular to ingress, with Twilio's code where Twilio has one."""

from __future__ import annotations

from shared.errors import TwilioError, service_unavailable

ADDRESS_TAKEN = 90101


def address_taken(address: str, provider_sid: str) -> TwilioError:
    return TwilioError(409, ADDRESS_TAKEN, f"Address {address} is already served by provider {provider_sid}")


def address_claimed_concurrently() -> TwilioError:
    return TwilioError(409, ADDRESS_TAKEN, "One of the addresses was just claimed by another provider; list the "
                                           "providers and retry")


def invalid_signature() -> TwilioError:
    # Twilio's own code for a Messaging webhook whose X-Twilio-Signature does not match.
    return TwilioError(403, 57012, "Signature invalid: X-Twilio-Signature does not match this request")


def broker_unavailable() -> TwilioError:
    # 503 tells the provider to retry; its retry carries the same MessageSid, so nothing doubles.
    return service_unavailable("Service unavailable: the message could not be queued; retry later")


def invalid_hub_signature() -> TwilioError:
    return TwilioError(403, 57012, "Signature invalid: X-Hub-Signature-256 does not match this request's body")


def invalid_verify_token() -> TwilioError:
    return TwilioError(403, 57012, "Verification failed: hub.mode must be subscribe and hub.verify_token the "
                                   "provider's VerifyToken")


def too_many_sockets(held_by: str, cap: int) -> TwilioError:
    # Twilio's 20429 (too many requests), as the HTTP throttles answer: a count of open sockets, not of calls.
    return TwilioError(429, 20429, f"Too many open realtime sockets {held_by} (at most {cap}); close one and retry")
