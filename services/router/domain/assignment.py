"""What an AssignmentCallbackUrl's answer tells TaskRouter to do with the reservation it was told of.

A 200 with JSON `{"instruction": "accept"}` accepts; `{"instruction": "reject", "activity_sid": "WA…"}`
rejects (and moves the worker when an activity is named). An empty or unrecognised answer leaves the
reservation pending for the application to answer through the REST API. The voice instructions
(`dequeue`, `call`, `conference`, `redirect`) need a phone call Parley does not have: they are ignored
with a warning, and the reservation stays pending, as for any non-voice task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

ANSWER_FIELDS = ("instruction", "activity_sid")
VOICE_INSTRUCTIONS = frozenset({"dequeue", "call", "conference", "redirect"})


@dataclass(frozen=True)
class Instruction:
    kind: Literal["accept", "reject", "voice", "none"]
    activity_sid: str | None = None
    given: str | None = None


def instruction_of(answer: Mapping[str, str]) -> Instruction:
    given = (answer.get("instruction") or "").strip()
    name = given.lower()
    activity_sid = answer.get("activity_sid") or None
    if name == "accept":
        return Instruction("accept", given=given)
    if name == "reject":
        return Instruction("reject", activity_sid=activity_sid, given=given)
    if name in VOICE_INSTRUCTIONS:
        return Instruction("voice", given=given)
    return Instruction("none", given=given or None)
