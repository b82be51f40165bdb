"""Reservation and task state machines: which REST-requested or timer-driven moves are allowed."""

from __future__ import annotations

RESERVATION_MOVES: dict[str, frozenset[str]] = {
    "pending": frozenset({"accepted", "rejected", "timeout", "canceled", "rescinded"}),
    "accepted": frozenset({"wrapping", "completed", "canceled"}),
    "wrapping": frozenset({"completed"}),
}

TASK_MOVES: dict[str, frozenset[str]] = {
    "pending": frozenset({"reserved", "canceled"}),
    "reserved": frozenset({"pending", "assigned", "canceled"}),
    "assigned": frozenset({"wrapping", "completed"}),
    "wrapping": frozenset({"completed"}),
}

# Reservation statuses that still hold a unit of the worker channel's capacity.
HOLDING = frozenset({"pending", "accepted", "wrapping"})

# Voice instructions answered by accepting the reservation.
ACCEPTING_INSTRUCTIONS = frozenset({"conference", "dequeue", "call", "redirect", "accept"})


def reservation_may_move(current: str, wanted: str) -> bool:
    return wanted in RESERVATION_MOVES.get(current, frozenset())


def task_may_move(current: str, wanted: str) -> bool:
    return wanted in TASK_MOVES.get(current, frozenset())

