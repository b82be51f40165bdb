"""The delivery log's REST API: filters, keyset paging, account isolation, Twilio-style errors."""

import httpx

from services.webhooks.app import SERVICE as WEBHOOKS
from shared.settings import Settings
from tests.support.receiver import Receiver
from tests.webhooks.accounts import client_as, create_subaccount, create_top_level_account
from tests.webhooks.deliveries import delivery_command, delivery_reaching, delivery_sid, publish_delivery

DELIVERIES = "/parley/v1/WebhookDeliveries"


async def test_list_filters_by_status_event_type_target_resource_and_url(launch, receiver: Receiver) -> None:
    parley = await launch([WEBHOOKS])
    receiver.responses = [400]
    refused = await publish_delivery(parley, delivery_command(f"{receiver.url}/a", event_type="onMessageAdded",
                                                              target="address", resource_sid="CH" + "1" * 32))
    async with parley.client() as client:
        await delivery_reaching(client, delivery_sid(refused), "failed")
        accepted = [
            await publish_delivery(parley, delivery_command(f"{receiver.url}/b", event_type="onParticipantAdded",
                                                            target="conversation", resource_sid="CH" + "2" * 32)),
            await publish_delivery(parley, delivery_command(f"{receiver.url}/b", event_type="task.created",
                                                            target="workspace", resource_sid="WT" + "3" * 32)),
        ]
        for envelope in accepted:
            await delivery_reaching(client, delivery_sid(envelope), "delivered")

        async def sids(**filters: str) -> list[str]:
            response = await client.get(DELIVERIES, params=filters)
            assert response.status_code == 200, response.text
            return [delivery["sid"] for delivery in response.json()["webhook_deliveries"]]

        everything = [delivery_sid(refused), *(delivery_sid(envelope) for envelope in accepted)]
        # The two accepted ones were stored concurrently, so only the refused one's place is fixed.
        listed = await sids()
        assert listed[0] == everything[0] and sorted(listed[1:]) == sorted(everything[1:])
        assert await sids(Status="failed") == [delivery_sid(refused)]
        assert sorted(await sids(Status="delivered", Url=f"{receiver.url}/b")) == sorted(everything[1:])
        assert await sids(EventType="task.created") == [everything[2]]
        assert await sids(Target="address") == [everything[0]]
        assert await sids(ResourceSid="CH" + "2" * 32) == [everything[1]]
        assert await sids(Url=f"{receiver.url}/nowhere") == []
        bad = await client.get(DELIVERIES, params={"Status": "lost"})
    assert bad.status_code == 400 and bad.json()["code"] == 20001


async def test_list_pages_forward_and_back_with_absolute_urls(launch, receiver: Receiver) -> None:
    parley = await launch([WEBHOOKS])
    envelopes = [await publish_delivery(parley, delivery_command(f"{receiver.url}/hook", params=[("N", str(n))]))
                 for n in range(5)]
    await receiver.wait_for(5)
    async with parley.client() as client:
        # Unordered deliveries are stored concurrently: the log's order is the order they were stored in.
        expected = [item["sid"] for item in (await client.get(DELIVERIES)).json()["webhook_deliveries"]]
        assert sorted(expected) == sorted(delivery_sid(envelope) for envelope in envelopes)
        first = (await client.get(DELIVERIES, params={"PageSize": 2})).json()
        meta = first["meta"]
        assert meta["key"] == "webhook_deliveries" and meta["page"] == 0 and meta["previous_page_url"] is None
        assert meta["url"].startswith(f"{parley.base_url}{DELIVERIES}?")
        second = (await client.get(meta["next_page_url"])).json()
        third = (await client.get(second["meta"]["next_page_url"])).json()
        back = (await client.get(second["meta"]["previous_page_url"])).json()
    pages = [first, second, third]
    assert [[item["sid"] for item in page["webhook_deliveries"]] for page in pages] == [
        expected[:2], expected[2:4], expected[4:]]
    assert third["meta"]["next_page_url"] is None
    assert [item["sid"] for item in back["webhook_deliveries"]] == expected[:2]
    item = first["webhook_deliveries"][0]
    assert item["links"]["self"] == f"{parley.base_url}{DELIVERIES}/{expected[0]}"
    assert item["date_created"].endswith("Z") and item["attempts"][0]["response_code"] == 200


async def test_another_accounts_delivery_is_not_found_and_not_listed(
    launch, settings: Settings, receiver: Receiver
) -> None:
    parley = await launch([WEBHOOKS])
    envelope = await publish_delivery(parley, delivery_command(f"{receiver.url}/hook"))
    sid = delivery_sid(envelope)
    async with parley.client() as client:
        await delivery_reaching(client, sid, "delivered")
    for credentials in (await create_top_level_account(settings), await create_subaccount(parley)):
        async with client_as(parley, credentials) as other:
            fetched = await other.get(f"{DELIVERIES}/{sid}")
            replayed = await other.post(f"{DELIVERIES}/{sid}/Replay")
            listed = await other.get(DELIVERIES)
            bulk = await other.post(f"{DELIVERIES}/Replay", data={"Status": "delivered"})
        assert fetched.status_code == 404 and fetched.json()["code"] == 20404
        assert set(fetched.json()) == {"code", "message", "more_info", "status"}
        assert replayed.status_code == 404 and replayed.json()["code"] == 20404
        assert listed.json()["webhook_deliveries"] == []
        assert bulk.json()["count"] == 0
    assert len(receiver.attempts) == 1


async def test_requests_without_valid_credentials_are_refused(launch) -> None:
    parley = await launch([WEBHOOKS])
    async with httpx.AsyncClient(base_url=parley.base_url) as anonymous:
        missing = await anonymous.get(DELIVERIES)
        wrong = await anonymous.get("/parley/v1/DeadLetters", auth=(parley.account.sid, "0" * 32))
    assert [missing.status_code, wrong.status_code] == [401, 401]
    assert missing.json()["code"] == 20003


async def test_replaying_one_delivery_sends_it_again_and_bulk_replay_needs_a_filter(
    launch, receiver: Receiver
) -> None:
    parley = await launch([WEBHOOKS])
    envelope = await publish_delivery(parley, delivery_command(f"{receiver.url}/hook"))
    sid = delivery_sid(envelope)
    async with parley.client() as client:
        await delivery_reaching(client, sid, "delivered")
        replay = await client.post(f"{DELIVERIES}/{sid}/Replay")
        assert replay.status_code == 200 and replay.json()["sid"] == sid
        await receiver.wait_for(2)
        again = await delivery_reaching(client, sid, "delivered")
        unfiltered = await client.post(f"{DELIVERIES}/Replay")
        missing = await client.post(f"{DELIVERIES}/DL{'0' * 32}/Replay")
    assert [attempt["response_code"] for attempt in again["attempts"]] == [200, 200]
    assert unfiltered.status_code == 400 and unfiltered.json()["code"] == 20001
    assert missing.status_code == 404
