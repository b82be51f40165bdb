"""The webhooks service's own error codes (Parley's 9xxxx range), raised as Twilio-style errors."""

from __future__ import annotations

from shared.errors import TwilioError

ALREADY_REPLAYED = 90401
REPLAY_NOT_TAKEN = 90402


def already_replayed(sid: str) -> TwilioError:
    return TwilioError(409, ALREADY_REPLAYED, f"Dead letter {sid} was already replayed")


def replay_not_taken(queue: str, reason: str) -> TwilioError:
    return TwilioError(503, REPLAY_NOT_TAKEN, f"Queue '{queue}' did not take the replayed message: {reason}")
