"""Reading a dead-lettered message: x-death, its account, its body, the headers a replay keeps, its dedupe key."""

import uuid
from datetime import UTC, datetime

from services.webhooks.consumers import dead_letter_key
from services.webhooks.domain.dead_letters import (
    REPLAY_HEADER,
    Death,
    account_of,
    normal_message_id,
    parse_body,
    read_death,
    replay_headers,
)

ACCOUNT = "AC" + "a" * 32


def headers(count: int = 1, reason: str = "delivery_limit", **extra: object) -> dict[str, object]:
    return {
        "x-death": [{"count": count, "reason": reason, "queue": "t1.conversations.inbound",
                     "time": datetime(2026, 11, 25, tzinfo=UTC), "exchange": "t1.parley.inbound",
                     "routing-keys": ["inbound.sms"]}],
        "x-delivery-count": 3, "x-first-death-queue": "t1.conversations.inbound", "x-first-death-reason": reason,
        **extra,
    }


def test_latest_death_names_the_logical_queue_the_original_routing_key_and_the_reason() -> None:
    assert read_death(headers(), broker_prefix="t1.") == Death(
        queue="conversations.inbound", routing_key="inbound.sms", reason="delivery_limit", count=1)


def test_a_message_without_x_death_still_gets_a_record() -> None:
    assert read_death({}, broker_prefix="t1.") == Death(queue="unknown", routing_key="", reason="unknown", count=1)


def test_body_is_json_only_when_jsonb_can_hold_it() -> None:
    assert parse_body(b'{"account_sid": "x"}') == (True, {"account_sid": "x"})
    assert parse_body(b"not json") == (False, None)
    assert parse_body(b"\xff\xfe") == (False, None)
    assert parse_body(b"NaN") == (False, None)
    assert parse_body(b'"nul \\u0000 inside"') == (False, None)


def test_account_comes_from_the_envelope_only_when_it_is_an_account_sid() -> None:
    assert account_of({"account_sid": ACCOUNT}) == ACCOUNT
    assert account_of({"account_sid": "system"}) is None
    assert account_of(["not", "an", "envelope"]) is None


def test_uuid_message_ids_are_spelled_one_way() -> None:
    value = uuid.uuid4()
    assert normal_message_id(str(value).upper()) == str(value)
    assert normal_message_id("not-a-uuid") == "not-a-uuid"
    assert normal_message_id(None) is None


def test_a_replay_keeps_the_applications_headers_and_drops_the_brokers() -> None:
    kept = replay_headers(headers(tenant=b"acme", when=datetime(2026, 1, 1, tzinfo=UTC), **{REPLAY_HEADER: "DX1"}))
    assert kept == {"tenant": "acme", "when": "2026-01-01T00:00:00+00:00"}


def test_dedupe_key_is_stable_for_a_redelivery_but_new_for_a_second_death() -> None:
    message_id = str(uuid.uuid4())
    first = dead_letter_key(b"{}", headers(), message_id)
    assert dead_letter_key(b"{}", headers(), message_id) == first
    assert dead_letter_key(b"{}", headers(count=2), message_id) != first
    assert dead_letter_key(b"{}", headers(**{REPLAY_HEADER: "DX" + "1" * 32}), message_id) != first
    assert dead_letter_key(b"{}", headers(), None) != dead_letter_key(b"[]", headers(), None)


def test_headers_kept_for_a_replay_are_ones_jsonb_can_hold() -> None:
    assert replay_headers({"ratio": float("nan"), "raw": b"x\x00y", "n": 3}) == {"ratio": "nan", "raw": "x\ufffdy", "n": 3}
