"""What the outside world saw during a chaos run, phase by phase (one phase per fault): each inbound message the
provider was told was accepted, every other answer it got, each agent reply and what Parley answered to it.
tests/chaos/accounting.py holds it against what Parley stored and delivered."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field

CUSTOMER_BODY = re.compile(r"^customer (\d+) seq (\d+)$")
REPLY_BODY = re.compile(r"^reply to customer (\d+) #(\d+)$")
CUSTOMER_PREFIX = "+1555300"

MessageKey = tuple[int, int]  # (customer, sequence number)


def customer_address(customer: int) -> str:
    return f"{CUSTOMER_PREFIX}{customer:04d}"


def customer_of_address(address: str) -> int | None:
    return int(address[len(CUSTOMER_PREFIX):]) if address.startswith(CUSTOMER_PREFIX) else None


def customer_body(customer: int, sequence: int) -> str:
    return f"customer {customer} seq {sequence}"


def parse_customer_body(body: str | None) -> MessageKey | None:
    found = CUSTOMER_BODY.match(body or "")
    return (int(found[1]), int(found[2])) if found else None


def reply_body(customer: int, number: int) -> str:
    return f"reply to customer {customer} #{number}"


@dataclass
class Phase:
    name: str
    started_at: float
    injected_at: float | None = None
    repaired_at: float | None = None
    recovered_at: float | None = None  # every message accepted before the repair had its webhook

    @property
    def recovery_seconds(self) -> float | None:
        if self.repaired_at is None or self.recovered_at is None:
            return None
        return max(0.0, self.recovered_at - self.repaired_at)


@dataclass(frozen=True)
class Accepted:
    phase: int
    at: float
    message_sid: str


@dataclass(frozen=True)
class Reply:
    phase: int
    customer: int
    taken: bool  # Parley answered 201; otherwise it refused or the answer was lost (then at most once)


@dataclass
class Ledger:
    phases: list[Phase] = field(default_factory=list)
    accepted: dict[MessageKey, Accepted] = field(default_factory=dict)
    joined: dict[int, int] = field(default_factory=dict)  # customer → the phase they first wrote in
    replies: dict[str, Reply] = field(default_factory=dict)  # body → what became of it
    refusals: list[Counter[str]] = field(default_factory=list)  # per phase: answers to inbound posts other than 200

    def begin(self, name: str) -> Phase:
        phase = Phase(name=name, started_at=time.time())
        self.phases.append(phase)
        self.refusals.append(Counter())
        return phase

    @property
    def phase(self) -> int:
        return len(self.phases) - 1

    def accept(self, key: MessageKey, message_sid: str) -> None:
        self.accepted[key] = Accepted(phase=self.phase, at=time.time(), message_sid=message_sid)

    def refuse(self, answer: str) -> None:
        self.refusals[self.phase][answer] += 1

    def reply(self, body: str, *, customer: int, taken: bool) -> None:
        self.replies[body] = Reply(phase=self.phase, customer=customer, taken=taken)

    def accepted_before(self, moment: float) -> list[MessageKey]:
        return [key for key, accepted in self.accepted.items() if accepted.at <= moment]
