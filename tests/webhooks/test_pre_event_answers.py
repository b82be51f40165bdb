"""The webhooks service answers pre-event requests (RPC): it makes the signed call and says what the answer means."""

import asyncio
import json

import pytest
from starlette.responses import Response
from twilio.request_validator import RequestValidator

from services.webhooks.app import SERVICE as WEBHOOKS
from services.webhooks.domain.pre_events import reply_of_answer
from shared.broker.topology import COMMANDS
from shared.contracts.webhooks import ASK_PRE_EVENT, PreEventReply, PreEventRequest
from shared.rpc import RpcClient
from tests.support.parley import RunningParley
from tests.support.receiver import Receiver
from tests.webhooks.deliveries import FormParams

MESSAGE_FIELDS = ["body", "author", "attributes"]


def test_what_an_answer_means() -> None:
    assert reply_of_answer(403, b"", modifiable=MESSAGE_FIELDS).outcome == "blocked"
    assert reply_of_answer(500, b'{"body": "x"}', modifiable=MESSAGE_FIELDS).outcome == "blocked"
    assert reply_of_answer(200, b"", modifiable=MESSAGE_FIELDS).outcome == "allowed"
    assert reply_of_answer(204, b"", modifiable=MESSAGE_FIELDS).outcome == "allowed"
    assert reply_of_answer(200, b"{}", modifiable=MESSAGE_FIELDS).outcome == "allowed"
    assert reply_of_answer(200, b"<Response/>", modifiable=MESSAGE_FIELDS).outcome == "allowed"
    assert reply_of_answer(200, b'{"friendly_name": "x"}', modifiable=MESSAGE_FIELDS).outcome == "allowed"
    modified = reply_of_answer(200, b'{"body": "new", "attributes": {"a": 1}, "index": 7}', modifiable=MESSAGE_FIELDS)
    assert modified.outcome == "modified"
    assert modified.fields == {"body": "new", "attributes": '{"a": 1}'}


@pytest.fixture
async def webhooks(launch) -> RunningParley:
    return await launch([WEBHOOKS])


async def ask(parley: RunningParley, url: str, *, method: str = "POST", timeout: float = 10) -> PreEventReply:
    client = RpcClient(parley.runtime.broker)
    request = PreEventRequest(
        event_type="onMessageAdd", target="account", url=url, method=method,  # type: ignore[arg-type]
        params=[("EventType", "onMessageAdd"), ("Body", "hello"), ("Author", "+15557654321")],
        modifiable=MESSAGE_FIELDS,
    )
    try:
        return await client.call(COMMANDS, request, type_=ASK_PRE_EVENT, account_sid=parley.account.sid,
                                 reply=PreEventReply, timeout=timeout)
    finally:
        await client.close()


async def test_the_call_is_signed_and_a_json_answer_modifies(webhooks: RunningParley, receiver: Receiver) -> None:
    receiver.responder = lambda _: Response(json.dumps({"body": "rewritten", "author": "bot"}),
                                            media_type="application/json")
    reply = await ask(webhooks, f"{receiver.url}/pre?x=1")
    assert reply.outcome == "modified"
    assert reply.fields == {"body": "rewritten", "author": "bot"}
    (call,) = receiver.requests
    assert call.field("EventType") == "onMessageAdd"
    validator = RequestValidator(webhooks.account.auth_token)
    assert validator.validate(call.url, FormParams(call.params), call.headers["x-twilio-signature"])


async def test_a_get_pre_event_carries_its_fields_in_the_signed_query(webhooks: RunningParley, receiver: Receiver) -> None:
    reply = await ask(webhooks, f"{receiver.url}/pre", method="GET")
    assert reply.outcome == "allowed"
    (call,) = receiver.requests
    assert call.method == "GET" and "Body=hello" in call.url
    assert RequestValidator(webhooks.account.auth_token).validate(call.url, {}, call.headers["x-twilio-signature"])


async def test_a_refusal_blocks_with_its_status(webhooks: RunningParley, receiver: Receiver) -> None:
    receiver.responses = [403]
    reply = await ask(webhooks, f"{receiver.url}/pre")
    assert (reply.outcome, reply.status_code) == ("blocked", 403)


async def test_no_answer_within_the_timeout_lets_the_action_through(webhooks: RunningParley, receiver: Receiver) -> None:
    receiver.delay_seconds = webhooks.settings.webhook_timeout_seconds + 3
    reply = await asyncio.wait_for(ask(webhooks, f"{receiver.url}/pre"),
                                   timeout=webhooks.settings.webhook_timeout_seconds + 2)
    assert reply.outcome == "timed_out"
    assert not reply.blocks


async def test_a_receiver_that_is_not_there_lets_the_action_through(webhooks: RunningParley) -> None:
    from shared.runtime import free_port

    reply = await ask(webhooks, f"http://127.0.0.1:{free_port()}/pre")
    assert reply.outcome == "unanswered" and not reply.blocks


