"""Deliveries with a JSON body: POSTed as application/json and signed with Twilio's bodySHA256 variant."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError
from twilio.request_validator import RequestValidator

from services.webhooks.app import SERVICE as WEBHOOKS
from shared.contracts.webhooks import WebhookDelivery
from tests.support.receiver import Receiver
from tests.webhooks.deliveries import delivery_command, delivery_reaching, delivery_sid, publish_delivery

BODY = {"EventType": "onMessageAdded", "Body": "Café & more", "Media": [{"Sid": "ME1", "Size": 3}], "Index": 0}


def test_the_contract_stays_backwards_compatible_and_json_goes_by_post() -> None:
    old = WebhookDelivery.model_validate_json(json.dumps({
        "event_type": "onMessageAdded", "target": "account", "url": "https://example.com/hook", "params": [["A", "1"]],
    }))
    assert old.json_body is None
    with pytest.raises(ValidationError):
        WebhookDelivery(event_type="x", target="account", url="https://example.com/", params=[], json_body={"a": 1},
                        method="GET")


async def test_a_json_delivery_is_signed_so_twilios_validator_accepts_it(launch, receiver: Receiver) -> None:
    parley = await launch([WEBHOOKS])
    receiver.responses = [503]  # the retry carries the same body under the same signature
    envelope = await publish_delivery(parley, delivery_command(f"{receiver.url}/hook?tenant=7", params=[],
                                                               json_body=BODY))
    await receiver.wait_for(1)
    first, second = receiver.attempts
    token = parley.account.auth_token
    validator = RequestValidator(token)
    for request in (first, second):
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.body) == BODY
        query = parse_qs(urlsplit(request.url).query)
        assert query["tenant"] == ["7"] and len(query["bodySHA256"]) == 1
        assert validator.validate(request.url, request.body.decode(), request.headers["x-twilio-signature"])
    assert first.body == second.body and first.headers["x-twilio-signature"] == second.headers["x-twilio-signature"]
    # A body changed on the way, or a signature made with another token, is caught.
    tampered = first.body.replace(b"Caf", b"Kaf")
    assert not validator.validate(first.url, tampered.decode(), first.headers["x-twilio-signature"])
    assert not RequestValidator("0" * 32).validate(first.url, first.body.decode(), first.headers["x-twilio-signature"])
    async with parley.client() as client:
        delivered = await delivery_reaching(client, delivery_sid(envelope), "delivered")
    assert delivered["json_body"] == BODY and delivered["params"] == []
    assert [attempt["response_code"] for attempt in delivered["attempts"]] == [503, 200]
