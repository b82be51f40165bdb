"""The agent feed's routing (which socket gets which TaskRouter event) and the message an agent receives."""

import json

from services.ingress.agent_feed import AgentFeed, agent_message
from services.ingress.realtime import Client
from shared.contracts.router import TaskRouterEvent


def reservation_event(event_type: str, worker_sid: str, **data: str) -> dict[str, object]:
    payload = TaskRouterEvent(
        event_sid="EV1", event_type=event_type, workspace_sid="WS1", resource_type="reservation",
        resource_sid="WR1", description="", resource={"sid": "WR1", "worker_sid": worker_sid},
        event_data={"worker_sid": worker_sid, "task_sid": "WT1", "reservation_timeout": "30",
                    "task_attributes": json.dumps({"customerName": "Ada", "channelType": "sms"}),
                    "task_channel_unique_name": "chat", "task_queue_name": "Support", **data})
    return {"type": event_type, "account_sid": "AC1", "occurred_at": "2026-01-01T00:00:00Z",
            "payload": payload.model_dump()}


async def test_each_worker_s_events_reach_only_its_own_sockets() -> None:
    feed = AgentFeed()
    alice, alice_again, bob = (Client(account_sid="AC1", identity=name) for name in ("alice", "alice", "bob"))
    feed.connect(alice, "WK1")
    feed.connect(alice_again, "WK1")
    feed.connect(bob, "WK2")
    feed.connect(Client(account_sid="AC1", identity="guest"), None)  # a guest's socket has no worker
    for client in (alice, alice_again, bob):
        client.go_live([])

    await feed.on_event(reservation_event("reservation.created", "WK1"))
    await feed.on_event({**reservation_event("reservation.created", "WK1"), "account_sid": "AC2"})  # another account
    await feed.on_event({"type": "message.added", "account_sid": "AC1", "payload": {}})  # not the feed's
    assert (alice.outbox.qsize(), alice_again.outbox.qsize(), bob.outbox.qsize()) == (1, 1, 0)

    feed.disconnect(alice_again, "WK1")
    await feed.on_event(reservation_event("reservation.timeout", "WK1"))
    assert (alice.outbox.qsize(), alice_again.outbox.qsize()) == (2, 1)
    assert feed.connected("AC1", "WK1") == 1 and feed.connected("AC1", "WK9") == 0


def test_an_offer_carries_its_task_and_timeout() -> None:
    event = TaskRouterEvent.model_validate(reservation_event("reservation.created", "WK1")["payload"])
    message = agent_message(event, worker_sid="WK1", occurred_at="2026-01-01T00:00:00Z")
    assert message["type"] == "reservation.created" and message["resource"]["sid"] == "WR1"
    assert message["timeout"] == 30 and message["occurred_at"] == "2026-01-01T00:00:00Z"
    assert message["task"]["sid"] == "WT1" and message["task"]["queue_name"] == "Support"
    assert message["task"]["attributes"] == {"customerName": "Ada", "channelType": "sms"}
    garbled = event.model_copy(update={"event_data": {**event.event_data, "task_attributes": "{not json"}})
    assert agent_message(garbled, worker_sid="WK1")["task"]["attributes"] == {}
