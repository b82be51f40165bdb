"""Read horizons from realtime clients (`realtime.read_horizon`, published by ingress) become the participant's
`last_read_message_index`; a horizon only moves forward and never past the conversation's last message."""

import json

from websockets.asyncio.client import connect

from shared.broker.topology import EVENTS
from shared.contracts.envelope import make_envelope
from shared.contracts.realtime import READ_HORIZON, ReadHorizonUpdate
from tests.support.parley import RunningParley
from tests.support.realtime import receive, token_for, ws_url
from tests.support.waiting import eventually


async def publish_horizon(parley: RunningParley, conversation_sid: str, identity: str, index: int,
                          account_sid: str | None = None) -> None:
    envelope = make_envelope(READ_HORIZON, ReadHorizonUpdate(
        conversation_sid=conversation_sid, identity=identity, last_read_message_index=index, origin="socket-1",
    ), account_sid=account_sid or parley.account.sid)
    await parley.runtime.broker.publish(EVENTS, READ_HORIZON, envelope.to_bytes(), message_id=str(envelope.message_id))


async def test_read_horizons_are_stored_on_the_participant_and_only_move_forward(parley: RunningParley) -> None:
    async with parley.client() as client:
        conversation = (await client.post("/conversations/v1/Conversations", data={"FriendlyName": "read"})).json()
        base = f"/conversations/v1/Conversations/{conversation['sid']}"
        guest = (await client.post(f"{base}/Participants", data={"Identity": "guest-1"})).json()
        for n in range(4):
            created = await client.post(f"{base}/Messages", data={"Author": "agent", "Body": f"m{n}"})
            assert created.status_code == 201, created.text

        async def horizon() -> int | None:
            return (await client.get(f"{base}/Participants/{guest['sid']}")).json()["last_read_message_index"]

        await publish_horizon(parley, conversation["sid"], "guest-1", 2)
        assert await eventually(horizon, until=lambda index: index == 2) == 2
        # Older, foreign, unknown and impossible horizons change nothing; the next real one still applies.
        await publish_horizon(parley, conversation["sid"], "guest-1", 1)
        await publish_horizon(parley, conversation["sid"], "guest-1", 3, account_sid="AC" + "9" * 32)
        await publish_horizon(parley, conversation["sid"], "nobody", 3)
        await publish_horizon(parley, conversation["sid"], "guest-1", 40)
        await publish_horizon(parley, conversation["sid"], "guest-1", 3)
        assert await eventually(horizon, until=lambda index: index == 3) == 3
        participant = (await client.get(f"{base}/Participants/{guest['sid']}")).json()
    assert participant["last_read_timestamp"] is not None


async def test_a_guest_reading_over_the_websocket_moves_its_participants_horizon(parley: RunningParley) -> None:
    async with parley.client() as client:
        conversation = (await client.post("/conversations/v1/Conversations", data={"FriendlyName": "ws"})).json()
        base = f"/conversations/v1/Conversations/{conversation['sid']}"
        guest = (await client.post(f"{base}/Participants", data={"Identity": "guest-ws"})).json()
        async with connect(ws_url(parley, token=await token_for(parley, "guest-ws"))) as ws:
            assert (await receive(ws))["type"] == "connected"
            created = await client.post(f"{base}/Messages", data={"Author": "agent", "Body": "hello"})
            assert created.status_code == 201, created.text
            # The message reaching the socket proves ingress knows the guest is a member of the conversation.
            while (event := await receive(ws))["type"] != "message.added":
                pass
            await ws.send(json.dumps({"type": "read", "conversation_sid": conversation["sid"],
                                      "index": event["index"]}))

            async def horizon() -> int | None:
                return (await client.get(f"{base}/Participants/{guest['sid']}")).json()["last_read_message_index"]

            assert await eventually(horizon, until=lambda index: index == 0) == 0
