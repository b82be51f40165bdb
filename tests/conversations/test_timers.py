"""Durable timers: Timers.Inactive / Timers.Closed move a conversation once, even with two instances running.

Time is shrunk through `conversation_timer_scale`; the timer path itself (due-time columns, the sweeper,
the announced transition) runs unchanged.
"""

from datetime import timedelta

import asyncpg
import pytest

from services.conversations.app import SERVICE as CONVERSATIONS
from shared.settings import Settings
from tests.support.event_tap import EventTap
from tests.support.parley import RunningParley
from tests.support.waiting import eventually

V1 = "/conversations/v1"
STATE_UPDATED = "conversation.state_updated"


@pytest.fixture
async def tap(settings: Settings):
    listener = EventTap(settings)
    await listener.start()
    yield listener
    await listener.stop()


def of(conversation_sid: str):
    return lambda event: event["payload"]["resource"]["sid"] == conversation_sid


async def test_inactive_timer_fires_once_with_two_instances(launch, settings: Settings, tap: EventTap) -> None:
    fast = settings.model_copy(update={"conversation_timer_scale": 0.02})  # PT1M → 1.2 s
    first: RunningParley = await launch([CONVERSATIONS], settings=fast)
    await launch([CONVERSATIONS], settings=fast, http=False)
    async with first.client() as client:
        created = await client.post(f"{V1}/Conversations", data={"Timers.Inactive": "PT1M", "State": "active"})
        assert created.status_code == 201, created.text
        sid = created.json()["sid"]
        assert "date_inactive" in created.json()["timers"]
        await eventually(lambda: client.get(f"{V1}/Conversations/{sid}"), until=lambda r: r.json()["state"] == "inactive")
        # A later timer is a barrier: once its transition is announced, any duplicate of the first would be too.
        later = (await client.post(f"{V1}/Conversations", data={"Timers.Inactive": "PT1M", "State": "active"})).json()
        await tap.wait_for(STATE_UPDATED, where=of(later["sid"]))
    events = tap.of_type(STATE_UPDATED)
    mine = [event for event in events if of(sid)(event)]
    assert len(mine) == 1
    assert (mine[0]["payload"]["reason"], mine[0]["payload"]["previous_state"]) == ("TIMER", "active")
    assert mine[0]["payload"]["resource"]["timers"] == {}


async def test_closed_timer_closes_and_releases_the_pair(launch, settings: Settings, tap: EventTap) -> None:
    fast = settings.model_copy(update={"conversation_timer_scale": 0.002})  # PT1M → 0.12 s, PT10M → 1.2 s
    parley: RunningParley = await launch([CONVERSATIONS], settings=fast)
    pair = {"MessagingBinding.Address": "+15553330000", "MessagingBinding.ProxyAddress": "+15553339999"}
    async with parley.client() as client:
        sid = (await client.post(f"{V1}/Conversations", data={
            "Timers.Inactive": "PT1M", "Timers.Closed": "PT10M", "State": "active"})).json()["sid"]
        await client.post(f"{V1}/Conversations/{sid}/Participants", data=pair)
        await eventually(lambda: client.get(f"{V1}/Conversations/{sid}"), until=lambda r: r.json()["state"] == "closed")
        other = (await client.post(f"{V1}/Conversations")).json()["sid"]
        assert (await client.post(f"{V1}/Conversations/{other}/Participants", data=pair)).status_code == 201
    events = await tap.wait_for(STATE_UPDATED, 2, where=of(sid))
    assert [(e["payload"]["previous_state"], e["payload"]["resource"]["state"], e["payload"]["reason"])
            for e in events] == [("active", "inactive", "TIMER"), ("inactive", "closed", "TIMER")]


async def test_a_message_restarts_the_timers(launch, settings: Settings) -> None:
    parley: RunningParley = await launch([CONVERSATIONS])
    async with parley.client() as client:
        sid = (await client.post(f"{V1}/Conversations", data={"Timers.Inactive": "PT1H", "State": "active"})).json()["sid"]
        search_path = settings.schema_name("conversations")
        conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": search_path})
        try:
            # As if the conversation had been idle for most of the hour.
            await conn.execute("UPDATE conversations SET date_inactive = now() + interval '1 minute' WHERE sid = $1", sid)
            await client.post(f"{V1}/Conversations/{sid}/Messages", data={"Body": "still here"})
            remaining = await conn.fetchval("SELECT date_inactive - now() FROM conversations WHERE sid = $1", sid)
        finally:
            await conn.close()
    assert remaining > timedelta(minutes=59)
