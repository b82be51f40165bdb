"""Webhook deliveries and dead letters as `/parley/v1` renders them."""

from __future__ import annotations

from typing import Any

from services.webhooks.domain.models import Attempt, DeadLetter, Delivery
from shared.http import iso

V1 = "/parley/v1"
DELIVERIES_PATH = f"{V1}/WebhookDeliveries"
DEAD_LETTERS_PATH = f"{V1}/DeadLetters"


def delivery_attempt(attempt: Attempt) -> dict[str, Any]:
    return {
        "attempt": attempt.number,
        "status": attempt.status,
        "date_attempted": iso(attempt.date_attempted),
        "response_code": attempt.response_code,
        "latency_ms": attempt.latency_ms,
        "error": attempt.error,
    }


def delivery(delivery: Delivery, attempts: list[Attempt], base: str) -> dict[str, Any]:
    """`url` is where the event goes, as API.md lists it; the resource's own address is `links.self`."""
    own = f"{base}{DELIVERIES_PATH}/{delivery.sid}"
    return {
        "sid": delivery.sid,
        "account_sid": delivery.account_sid,
        "event_type": delivery.event_type,
        "target": delivery.target,
        "url": delivery.url,
        "method": delivery.method,
        "params": [list(pair) for pair in delivery.params],
        "json_body": delivery.json_body,
        "resource_sid": delivery.resource_sid,
        "ordering_key": delivery.ordering_key,
        "status": delivery.status,
        "error": delivery.error,
        "attempt_count": delivery.attempt_count,
        "attempts": [delivery_attempt(one) for one in attempts],
        "date_next_attempt": iso(delivery.next_attempt_at) if delivery.status in ("pending", "retrying") else None,
        "date_created": iso(delivery.date_created),
        "date_updated": iso(delivery.date_updated),
        "links": {"self": own, "replay": f"{own}/Replay"},
    }


def dead_letter(dead: DeadLetter, base: str) -> dict[str, Any]:
    url = f"{base}{DEAD_LETTERS_PATH}/{dead.sid}"
    links = {"replay": f"{url}/Replay"}
    if dead.delivery_sid is not None:
        links["webhook_delivery"] = f"{base}{DELIVERIES_PATH}/{dead.delivery_sid}"
    return {
        "sid": dead.sid,
        "account_sid": dead.account_sid,
        "queue": dead.queue,
        "routing_key": dead.routing_key,
        "reason": dead.reason,
        "error": dead.error,
        "payload": _payload(dead),
        "message_id": dead.message_id,
        "webhook_delivery_sid": dead.delivery_sid,
        "status": dead.status,
        "date_created": iso(dead.date_created),
        "date_updated": iso(dead.date_updated),
        "url": url,
        "links": links,
    }


def _payload(dead: DeadLetter) -> Any:
    """The message as JSON when it was JSON; otherwise its bytes as text, so even garbage can be read."""
    if dead.payload is not None or dead.body is None:
        return dead.payload
    return dead.body.decode(errors="replace")
