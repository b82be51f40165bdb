"""The realtime WebSocket: access-token auth, fan-out across ingress replicas, typing and read horizons, resume."""

import asyncio
import json
import time
from typing import Any

import pytest
from twilio.jwt.access_token import AccessToken
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from services.ingress.app import SERVICE as INGRESS
from shared.broker.topology import EVENTS
from shared.contracts.conversations import ResourceEvent
from shared.contracts.envelope import make_envelope
from shared.runtime import free_port
from shared.sids import new_sid
from tests.conftest import StartParley
from tests.support.parley import RunningParley
from tests.support.realtime import receive, token_for, ws_url


@pytest.fixture
async def replicas(launch: StartParley) -> tuple[RunningParley, RunningParley]:
    """Two ingress processes' worth of runtime on one broker and database, as two replicas would be."""
    first = await launch([INGRESS])
    second = await launch([INGRESS], port=free_port())
    return first, second


async def nothing_more(ws: ClientConnection, wait: float = 0.5) -> bool:
    """Nothing arrives within `wait` (used only after a later event proved earlier ones were delivered)."""
    try:
        await asyncio.wait_for(ws.recv(), wait)
    except TimeoutError:
        return True
    return False


async def open_socket(parley: RunningParley, identity: str, opened: list[ClientConnection],
                      **params: str) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await connect(ws_url(parley, token=await token_for(parley, identity), **params))
    opened.append(ws)
    hello = await receive(ws)
    assert hello["type"] == "connected" and hello["identity"] == identity
    return ws, hello


async def announce(parley: RunningParley, event_type: str, resource: dict[str, Any]) -> None:
    """What the conversations service publishes on parley.events."""
    envelope = make_envelope(event_type, ResourceEvent(resource=resource, source="API"), account_sid=parley.account.sid)
    await parley.runtime.broker.publish(EVENTS, event_type, envelope.to_bytes(), message_id=str(envelope.message_id))


async def join(parley: RunningParley, conversation_sid: str, identity: str) -> str:
    participant_sid = new_sid("MB")
    await announce(parley, "participant.added", {"sid": participant_sid, "account_sid": parley.account.sid,
                                                 "conversation_sid": conversation_sid, "identity": identity})
    return participant_sid


async def post_message(parley: RunningParley, conversation_sid: str, index: int, body: str) -> None:
    await announce(parley, "message.added", {"sid": new_sid("IM"), "account_sid": parley.account.sid,
                                             "conversation_sid": conversation_sid, "index": index,
                                             "author": "agent", "body": body})


async def test_a_socket_on_either_replica_sees_the_conversations_events_and_typing_crosses_replicas(
    replicas: tuple[RunningParley, RunningParley], sockets: list[ClientConnection]
) -> None:
    first, second = replicas
    conversation = new_sid("CH")
    guest, _ = await open_socket(first, "guest-ada", sockets)
    agent, _ = await open_socket(second, "agent-bob", sockets)
    await join(first, conversation, "guest-ada")
    added = await receive(guest)
    assert (added["type"], added["resource"]["identity"]) == ("participant.added", "guest-ada")
    # Bob is not in the conversation yet, so Ada's joining is none of his business; his own joining is.
    await join(second, conversation, "agent-bob")
    assert (await receive(agent))["resource"]["identity"] == "agent-bob"
    assert (await receive(guest))["resource"]["identity"] == "agent-bob"

    # Posted through the second replica's broker connection, seen on both.
    await post_message(second, conversation, 0, "Hello Ada, this is Bob")
    for ws in (guest, agent):
        message = await receive(ws)
        assert (message["type"], message["index"], message["resource"]["body"]) == (
            "message.added", 0, "Hello Ada, this is Bob")

    await guest.send(json.dumps({"type": "typing", "conversation_sid": conversation}))
    assert await receive(agent) == {"type": "typing", "conversation_sid": conversation, "identity": "guest-ada"}
    await agent.send(json.dumps({"type": "read", "conversation_sid": conversation, "index": 0}))
    assert await receive(guest) == {"type": "read_horizon", "conversation_sid": conversation, "identity": "agent-bob",
                                    "last_read_message_index": 0}
    # Delivery updates of the conversation's messages (onDeliveryUpdated) reach its members too.
    receipt = {"sid": new_sid("DY"), "account_sid": second.account.sid, "conversation_sid": conversation,
               "message_sid": new_sid("IM"), "status": "delivered", "error_code": 0}
    await announce(second, "delivery.updated", receipt)
    for ws in (guest, agent):
        assert await receive(ws) == {"type": "delivery.updated", "conversation_sid": conversation, "resource": receipt}

    # Neither hears its own typing or read horizon back.
    await post_message(first, conversation, 1, "sentinel")
    assert (await receive(guest))["index"] == 1
    assert (await receive(agent))["index"] == 1


async def test_a_client_sees_only_its_own_conversations_and_cannot_type_into_others(
    replicas: tuple[RunningParley, RunningParley], sockets: list[ClientConnection]
) -> None:
    first, _ = replicas
    mine, theirs = new_sid("CH"), new_sid("CH")
    ws, _ = await open_socket(first, "guest-ada", sockets)
    await join(first, mine, "guest-ada")
    await receive(ws)
    await join(first, theirs, "someone-else")
    await post_message(first, theirs, 0, "not for Ada")
    await ws.send(json.dumps({"type": "typing", "conversation_sid": theirs}))
    refused = await receive(ws)
    assert (refused["type"], refused["code"], refused["status"]) == ("error", 20404, 404)
    await post_message(first, mine, 0, "for Ada")
    assert (await receive(ws))["resource"]["body"] == "for Ada"

    # Removed from the conversation: its events stop.
    participant = await join(first, mine, "guest-ada")
    await receive(ws)
    await announce(first, "participant.removed", {"sid": participant, "account_sid": first.account.sid,
                                                  "conversation_sid": mine, "identity": "guest-ada"})
    assert (await receive(ws))["type"] == "participant.removed"
    await post_message(first, mine, 1, "after Ada left")
    assert await nothing_more(ws, 1.0)


async def test_reconnecting_with_the_last_seen_index_replays_what_was_missed_once(
    replicas: tuple[RunningParley, RunningParley], sockets: list[ClientConnection]
) -> None:
    first, second = replicas
    conversation = new_sid("CH")
    ws, _ = await open_socket(first, "guest-ada", sockets)
    await join(first, conversation, "guest-ada")
    await receive(ws)
    await post_message(first, conversation, 0, "zero")
    assert (await receive(ws))["index"] == 0
    await ws.close()

    for index in (1, 2, 3):
        await post_message(second, conversation, index, f"missed {index}")
    # Back on the other replica, from index 0.
    again, hello = await open_socket(second, "guest-ada", sockets, resume_from="0")
    assert hello["conversations"] == [conversation]
    seen = [await receive(again) for _ in range(3)]
    assert [(m["index"], m["resource"]["body"]) for m in seen] == [(1, "missed 1"), (2, "missed 2"), (3, "missed 3")]
    await post_message(second, conversation, 4, "live again")
    live = await receive(again)
    assert (live["index"], live.get("replayed")) == (4, None)
    assert await nothing_more(again)

    # A per-conversation position works too.
    third, _ = await open_socket(first, "guest-ada", sockets, resume_from=f"{conversation}:3")
    assert (await receive(third))["index"] == 4


async def test_a_wrong_or_expired_token_is_refused(
    replicas: tuple[RunningParley, RunningParley], sockets: list[ClientConnection]
) -> None:
    first, _ = replicas
    async with first.client() as client:
        key = (await client.post(f"/api/2010-04-01/Accounts/{first.account.sid}/Keys.json")).json()
    expired = AccessToken(first.account.sid, key["sid"], key["secret"], identity="late",
                          nbf=int(time.time()) - 7200, valid_until=int(time.time()) - 3600).to_jwt()
    forged = AccessToken(first.account.sid, key["sid"], "f" * 64, identity="mallory").to_jwt()
    for token in (expired, forged, "garbage"):
        with pytest.raises(InvalidStatus) as refused:
            await connect(ws_url(first, token=token))
        assert refused.value.response.status_code == 403

    # A token Twilio's own helper minted with an account key is as good as Parley's.
    helper = AccessToken(first.account.sid, key["sid"], key["secret"], identity="helper-user").to_jwt()
    ws = await connect(ws_url(first, token=helper))
    sockets.append(ws)
    assert (await receive(ws))["identity"] == "helper-user"

    # Authenticating with the first message instead: a bad token is told why, then closed.
    ws = await connect(ws_url(first))
    sockets.append(ws)
    await ws.send(json.dumps({"type": "auth", "token": expired}))
    error = await receive(ws)
    assert (error["type"], error["code"]) == ("error", 20104)
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001

    ws = await connect(ws_url(first))
    sockets.append(ws)
    await ws.send(json.dumps({"type": "auth", "token": await token_for(first, "first-message")}))
    assert (await receive(ws))["identity"] == "first-message"


async def test_the_connection_closes_when_its_token_expires(
    replicas: tuple[RunningParley, RunningParley], sockets: list[ClientConnection]
) -> None:
    first, _ = replicas
    async with first.client() as client:
        key = (await client.post(f"/api/2010-04-01/Accounts/{first.account.sid}/Keys.json")).json()
    short = AccessToken(first.account.sid, key["sid"], key["secret"], identity="brief", ttl=2).to_jwt()
    ws = await connect(ws_url(first, token=short))
    sockets.append(ws)
    assert (await receive(ws))["type"] == "connected"
    expired = await receive(ws, timeout=15)
    assert (expired["type"], expired["code"]) == ("error", 20104)
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4002
