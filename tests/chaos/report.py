"""The one table a chaos run prints (fault → what was accepted, stored, delivered, lost, repeated, reordered,
parked, and how long recovery took) and the verdict: what must be zero and what must hold once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Row:
    fault: str
    accepted: int  # inbound messages the provider was told were accepted (200)
    stored: int  # of those, stored in a conversation
    delivered: int  # of those, whose `onMessageAdded` webhook the endpoint answered 2xx
    missing: int  # accepted but not stored or never delivered
    duplicates_stored: int
    duplicate_deliveries_same_token: int  # a repeated delivery the receiver can drop by its idempotency token
    duplicate_deliveries_other_token: int  # one it cannot
    out_of_order: int  # stored or first delivered after a later message of the same customer
    conversations_per_customer: tuple[int, int] | None  # (fewest, most) among the customers who joined in the phase
    parked: int  # dead letters recorded during the phase
    recovery_seconds: float | None  # from the repair until every message accepted before it was delivered
    replies_taken: int  # agent replies Parley answered 201 to
    replies_once: int  # of those, received by the carrier exactly once
    replies_twice: int  # any reply (taken or not) the carrier received more than once
    customers_joined: int
    tasks_assigned_once: int  # customers of the phase whose conversation became one task, accepted once
    refusals: Counter[str]  # answers to inbound posts other than 200, by status (or error)
    out_of_order_examples: str = ""  # which messages, and where: stored or first delivered out of order


HEADERS = ("fault", "accepted", "stored", "delivered", "missing", "dup stored", "dup deliv same token",
           "dup deliv other token", "out of order", "conv/customer", "parked", "recover s", "replies once",
           "tasks once", "inbound answers ≠ 200")


def _cells(row: Row) -> list[str]:
    spread = row.conversations_per_customer
    conversations = "—" if spread is None else str(spread[0]) if spread[0] == spread[1] else f"{spread[0]}-{spread[1]}"
    recovery = "not recovered" if row.recovery_seconds is None else f"{row.recovery_seconds:.1f}"
    replies = f"{row.replies_once}/{row.replies_taken}" + (f" ({row.replies_twice} twice)" if row.replies_twice else "")
    refusals = " ".join(f"{answer} x{count}" for answer, count in sorted(row.refusals.items())) or "—"
    return [row.fault, str(row.accepted), str(row.stored), str(row.delivered), str(row.missing),
            str(row.duplicates_stored), str(row.duplicate_deliveries_same_token),
            str(row.duplicate_deliveries_other_token), str(row.out_of_order), conversations, str(row.parked),
            recovery, replies, f"{row.tasks_assigned_once}/{row.customers_joined}", refusals]


def total(rows: list[Row]) -> Row:
    numbers = {f.name: sum(getattr(row, f.name) for row in rows) for f in fields(Row)
               if f.type == "int"}
    spreads = [row.conversations_per_customer for row in rows if row.conversations_per_customer]
    recoveries = [row.recovery_seconds for row in rows if row.recovery_seconds is not None]
    return Row(fault="all", **numbers,
               conversations_per_customer=(min(s[0] for s in spreads), max(s[1] for s in spreads)) if spreads else None,
               recovery_seconds=max(recoveries) if recoveries and len(recoveries) == len(rows) else None,
               refusals=sum((row.refusals for row in rows), Counter()),
               out_of_order_examples="")


def table(rows: list[Row]) -> str:
    """A Markdown table, readable in a terminal and pasted as is into docs/reliability.md."""
    lines = [list(HEADERS)] + [_cells(row) for row in [*rows, total(rows)]]
    widths = [max(len(line[column]) for line in lines) for column in range(len(HEADERS))]
    rendered = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |"
                for line in lines]
    rendered.insert(1, "| " + " | ".join("-" * width for width in widths) + " |")
    return "\n".join(rendered)


def failures(rows: list[Row]) -> list[str]:
    """Why the run fails; empty when it passes."""
    found = []
    for row in rows:
        for name in ("missing", "duplicates_stored", "duplicate_deliveries_other_token", "out_of_order", "parked",
                     "replies_twice"):
            if count := getattr(row, name):
                detail = f" ({row.out_of_order_examples})" if name == "out_of_order" else ""
                found.append(f"{row.fault}: {name.replace('_', ' ')} {count}{detail}")
        if row.conversations_per_customer not in (None, (1, 1)):
            found.append(f"{row.fault}: a customer has {row.conversations_per_customer} conversations, not one")
        if row.replies_once != row.replies_taken:
            found.append(f"{row.fault}: {row.replies_taken - row.replies_once} agent replies did not reach the "
                         "carrier exactly once")
        if row.tasks_assigned_once != row.customers_joined:
            found.append(f"{row.fault}: {row.customers_joined - row.tasks_assigned_once} customers' conversations "
                         "were not one task assigned once")
    return found
