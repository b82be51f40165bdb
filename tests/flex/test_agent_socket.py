"""The agent's own TaskRouter events on the realtime WebSocket: offers with their task, endings, activity changes."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.flex.conftest import CUSTOMER, Agent, ContactCenter
from tests.support.realtime import ws_url


async def agent_socket(center: ContactCenter, agent: Agent) -> ClientConnection:
    issued = await center.post("/parley/v1/AccessTokens", {
        "Identity": agent.identity, "WorkspaceSid": center.workspace_sid, "WorkerSid": agent.sid}, status=201)
    ws = await connect(ws_url(center.parley, token=issued["token"]))
    hello = json.loads(await ws.recv())
    assert (hello["type"], hello["worker_sid"]) == ("connected", agent.sid)
    return ws


async def next_of(ws: ClientConnection, type_: str, timeout: float = 15.0) -> dict[str, Any]:
    """The next message of `type_`, past others (conversation events also arrive)."""
    async def wanted() -> dict[str, Any]:
        while (message := json.loads(await ws.recv()))["type"] != type_:
            pass
        return dict(message)

    return await asyncio.wait_for(wanted(), timeout)


@pytest.fixture
async def sockets(center: ContactCenter) -> AsyncIterator[dict[str, ClientConnection]]:
    opened = {"alice": await agent_socket(center, center.alice), "bob": await agent_socket(center, center.bob)}
    yield opened
    for ws in opened.values():
        await ws.close()


async def test_an_agent_sees_its_offer_with_the_task_then_accepts_wraps_and_completes(
    center: ContactCenter, sockets: dict[str, ClientConnection],
) -> None:
    alice, bob = sockets["alice"], sockets["bob"]
    await center.make_available(center.alice)
    activity = await next_of(alice, "worker.activity.update")
    assert (activity["activity_name"], activity["resource"]["sid"]) == ("Available", center.alice.sid)

    conversation_sid = await center.conversation_with_customer()
    created = await center.inbound_interaction(conversation_sid)
    task_sid = created["routing"]["properties"]["sid"]
    offer = await next_of(alice, "reservation.created")
    assert offer["resource"]["reservation_status"] == "pending" and offer["resource"]["worker_sid"] == center.alice.sid
    assert offer["task"]["sid"] == task_sid and offer["task"]["channel_unique_name"] == "chat"
    assert offer["task"]["attributes"]["customerAddress"] == CUSTOMER
    assert offer["task"]["attributes"]["channelType"] == "sms"
    assert offer["timeout"] == 120  # the workflow's default task_reservation_timeout

    await center.accept(task_sid)
    assert (await next_of(alice, "reservation.accepted"))["resource"]["sid"] == offer["resource"]["sid"]
    # Accepting puts Alice in the conversation: its events now reach her socket too.
    joined = await next_of(alice, "participant.added")
    assert joined["conversation_sid"] == conversation_sid

    channel_url = f"/flex-api/v1/Interactions/{created['sid']}/Channels/{created['channel']['sid']}"
    participants = (await center.get(f"{channel_url}/Participants"))["participants"]
    agent = next(p for p in participants if p["type"] == "agent")
    await center.post(f"{channel_url}/Participants/{agent['sid']}", {"Status": "wrapup"})
    assert (await next_of(alice, "reservation.wrapup"))["resource"]["reservation_status"] == "wrapping"
    await center.post(channel_url, {"Status": "closed", "Routing": json.dumps({"status": "closed"})})
    assert (await next_of(alice, "reservation.completed"))["resource"]["reservation_status"] == "completed"

    # Bob was offline all along: nothing of Alice's work reached him, and his own activity change does.
    await center.make_available(center.bob)
    assert (await next_of(bob, "worker.activity.update"))["resource"]["sid"] == center.bob.sid
    await center.post(f"{center.ws}/Workers/{center.bob.sid}", {"ActivitySid": center.available_sid})


async def test_an_offer_that_times_out_ends_on_the_agents_socket_and_goes_to_the_next_agent(
    center: ContactCenter, sockets: dict[str, ClientConnection],
) -> None:
    alice, bob = sockets["alice"], sockets["bob"]
    await center.post(f"/taskrouter/v1/Workspaces/{center.workspace_sid}/Workflows/{center.workflow_sid}",
                      {"TaskReservationTimeout": "2"})
    await center.make_available(center.alice)
    conversation_sid = await center.conversation_with_customer()
    created = await center.inbound_interaction(conversation_sid)
    task_sid = created["routing"]["properties"]["sid"]
    offer = await next_of(alice, "reservation.created")
    assert offer["timeout"] == 2
    await center.make_available(center.bob)
    assert (await next_of(alice, "reservation.timeout"))["resource"]["sid"] == offer["resource"]["sid"]
    to_bob = await next_of(bob, "reservation.created")
    assert to_bob["task"]["sid"] == task_sid and to_bob["resource"]["worker_sid"] == center.bob.sid
    # Alice never hears of Bob's offer: what reaches her up to a later event of her own is hers alone.
    await center.post(f"{center.ws}/Tasks/{task_sid}/Reservations/{to_bob['resource']['sid']}",
                      {"ReservationStatus": "accepted"})
    await center.post(f"{center.ws}/Workers/{center.alice.sid}", {"ActivitySid": center.available_sid})
    seen = await until_activity(alice)
    assert all(message.get("worker_sid") in (None, center.alice.sid) for message in seen), seen
    assert to_bob["resource"]["sid"] not in json.dumps(seen)


async def until_activity(ws: ClientConnection, timeout: float = 15.0) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    async def collect() -> None:
        while not seen or seen[-1]["type"] != "worker.activity.update":
            seen.append(json.loads(await ws.recv()))

    await asyncio.wait_for(collect(), timeout)
    return seen
