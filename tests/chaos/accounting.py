"""The books of a chaos run: the ledger (what the provider and the agents were told) against what Parley stored
(read through its API), what the webhook endpoint and the carrier received, what it parked, and how tasks were
assigned; one row per phase."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from tests.chaos.contact_center import ContactCenter
from tests.chaos.ledger import Ledger, MessageKey, customer_of_address, parse_customer_body
from tests.chaos.report import Row
from tests.support.receiver import Receiver

ACCEPTED_RESERVATION = ("accepted", "wrapping", "completed")


@dataclass
class Deliveries:
    """The endpoint's `onMessageAdded` webhooks of customers' messages, indexed as they arrive."""

    endpoint: Receiver
    arrivals: dict[MessageKey, list[str | None]] = field(default_factory=lambda: defaultdict(list))  # → tokens
    order: list[MessageKey] = field(default_factory=list)  # first arrivals, in the order they came
    _read: int = 0

    def catch_up(self) -> None:
        for request in self.endpoint.requests[self._read:]:
            key = parse_customer_body(request.field("Body"))
            if key is not None and request.field("EventType") == "onMessageAdded":
                if key not in self.arrivals:
                    self.order.append(key)
                self.arrivals[key].append(request.headers.get("i-twilio-idempotency-token"))
        self._read = len(self.endpoint.requests)

    def undelivered(self, keys: list[MessageKey]) -> list[MessageKey]:
        self.catch_up()
        return [key for key in keys if key not in self.arrivals]


async def pages(http: httpx.AsyncClient, path: str, key: str) -> AsyncIterator[dict[str, Any]]:
    """Every item of a Twilio-style list, page after page."""
    url: str | None = path
    params: dict[str, Any] | None = {"PageSize": 100}
    while url:
        answer = await http.get(url, params=params)
        assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text}"
        body = answer.json()
        for item in body[key]:
            yield item
        url, params = body["meta"]["next_page_url"], None


@dataclass
class StoredState:
    """What Parley holds at the end, as its API shows it."""

    messages: dict[str, list[MessageKey]] = field(default_factory=dict)  # conversation → customers' messages, by index
    conversations_of: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    parked_at: list[float] = field(default_factory=list)
    tasks_of: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))  # customer → task SIDs
    assignments: dict[str, int] = field(default_factory=dict)  # task → reservations accepted

    @classmethod
    async def read(cls, http: httpx.AsyncClient, center: ContactCenter) -> StoredState:
        state = cls()
        async for conversation in pages(http, "/conversations/v1/Conversations", "conversations"):
            sid = conversation["sid"]
            state.messages[sid] = []
            async for message in pages(http, f"/conversations/v1/Conversations/{sid}/Messages", "messages"):
                key = parse_customer_body(message["body"])
                if key is not None:
                    state.messages[sid].append(key)
                    state.conversations_of[key[0]].add(sid)
        async for parked in pages(http, "/parley/v1/DeadLetters", "dead_letters"):
            state.parked_at.append(datetime.fromisoformat(parked["date_created"]).timestamp())
        async for task in pages(http, f"{center.ws}/Tasks", "tasks"):
            customer = customer_of_address(json.loads(task["attributes"]).get("customerAddress", ""))
            if customer is None:
                continue
            state.tasks_of[customer].append(task["sid"])
            state.assignments[task["sid"]] = 0
            async for reservation in pages(http, f"{center.ws}/Tasks/{task['sid']}/Reservations", "reservations"):
                if reservation["reservation_status"] in ACCEPTED_RESERVATION:
                    state.assignments[task["sid"]] += 1
        return state


def out_of_order(sequence: list[MessageKey]) -> list[MessageKey]:
    """The messages that came after a later message of the same customer."""
    latest: dict[int, int] = {}
    late = []
    for customer, number in sequence:
        if number < latest.get(customer, -1):
            late.append((customer, number))
        latest[customer] = max(number, latest.get(customer, -1))
    return late


def phase_rows(ledger: Ledger, stored: StoredState, deliveries: Deliveries, carrier: Receiver) -> list[Row]:
    deliveries.catch_up()
    stored_count = Counter(key for keys in stored.messages.values() for key in keys)
    late_stored = {key for keys in stored.messages.values() for key in out_of_order(keys)}
    late_delivered = set(out_of_order(deliveries.order))
    at_carrier = Counter(request.field("Body") for request in carrier.requests)
    rows = []
    for index, phase in enumerate(ledger.phases):
        ends = ledger.phases[index + 1].started_at if index + 1 < len(ledger.phases) else float("inf")
        keys = [key for key, accepted in ledger.accepted.items() if accepted.phase == index]
        same_token = other_token = 0
        for key in keys:
            tokens = deliveries.arrivals.get(key, [])
            same_token += len(tokens) - len(set(tokens))
            other_token += max(0, len(set(tokens)) - 1)
        joined = [customer for customer, joined_in in ledger.joined.items() if joined_in == index]
        conversations = [len(stored.conversations_of.get(customer, ())) for customer in joined]
        replies = [(body, reply) for body, reply in ledger.replies.items() if reply.phase == index]
        late = [(key, "stored" if key in late_stored else "delivered") for key in keys
                 if key in late_stored or key in late_delivered]
        rows.append(Row(
            fault=phase.name,
            accepted=len(keys),
            stored=sum(1 for key in keys if stored_count[key]),
            delivered=sum(1 for key in keys if key in deliveries.arrivals),
            missing=sum(1 for key in keys if not stored_count[key] or key not in deliveries.arrivals),
            duplicates_stored=sum(max(0, stored_count[key] - 1) for key in keys),
            duplicate_deliveries_same_token=same_token,
            duplicate_deliveries_other_token=other_token,
            out_of_order=sum(1 for key in keys if key in late_stored or key in late_delivered),
            conversations_per_customer=(min(conversations), max(conversations)) if conversations else None,
            parked=sum(1 for moment in stored.parked_at if phase.started_at <= moment < ends),
            recovery_seconds=phase.recovery_seconds,
            replies_taken=sum(1 for _, reply in replies if reply.taken),
            replies_once=sum(1 for body, reply in replies if reply.taken and at_carrier[body] == 1),
            replies_twice=sum(1 for body, _ in replies if at_carrier[body] > 1),
            customers_joined=len(joined),
            tasks_assigned_once=sum(1 for customer in joined if _assigned_once(stored, customer)),
            refusals=ledger.refusals[index],
            out_of_order_examples=", ".join(f"customer {customer} seq {number} {where}"
                                            for (customer, number), where in late[:5]),
        ))
    return rows


def _assigned_once(stored: StoredState, customer: int) -> bool:
    tasks = stored.tasks_of.get(customer, [])
    return len(tasks) == 1 and stored.assignments[tasks[0]] == 1
