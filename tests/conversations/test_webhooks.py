"""Webhook configuration at three levels and the deliveries it selects: filters, triggers, the header rule.

The conversations service decides where an event goes and hands one `webhook.deliver` command per target
to the webhooks service; these tests read those commands off the broker.
"""

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from services.conversations.app import SERVICE as CONVERSATIONS
from shared.broker.topology import COMMANDS
from shared.contracts.webhooks import DELIVER_WEBHOOK
from tests.support.event_tap import EventTap
from tests.support.parley import RunningParley
from tests.support.receiver import Receiver
from tests.support.twilio_client import call, create_account, twilio_client

V1 = "/conversations/v1"
ENABLED = {"X-Twilio-Webhook-Enabled": "true"}


@pytest.fixture
async def parley(launch) -> RunningParley:
    return await launch([CONVERSATIONS])


@pytest.fixture
async def tap(parley: RunningParley):
    listener = EventTap(parley.settings)  # events need a subscriber to be routable
    await listener.start()
    yield listener
    await listener.stop()


@pytest.fixture
async def deliveries(parley: RunningParley, tap: EventTap):
    listener = EventTap(parley.settings, exchange=COMMANDS, binding=DELIVER_WEBHOOK)
    await listener.start()
    yield listener
    await listener.stop()


def field(delivery: dict, name: str) -> str | None:
    return next((value for key, value in delivery["payload"]["params"] if key == name), None)


def path_of(delivery: dict) -> str:
    return "/" + delivery["payload"]["url"].split("/", 3)[3]


async def test_scoped_webhook_lifecycle_through_the_twilio_library(parley: RunningParley, receiver: Receiver) -> None:
    conversation = await call(twilio_client(parley).conversations.v1.conversations.create)
    webhooks = twilio_client(parley).conversations.v1.conversations(conversation.sid).webhooks
    hook = await call(webhooks.create, target="webhook", configuration_url=f"{receiver.url}/scoped",
                      configuration_method="POST", configuration_filters=["onMessageAdded", "onParticipantAdded"])
    assert hook.sid.startswith("WH") and hook.target == "webhook"
    assert hook.configuration == {"url": f"{receiver.url}/scoped", "method": "POST",
                                  "filters": ["onMessageAdded", "onParticipantAdded"]}
    studio = await call(webhooks.create, target="studio", configuration_flow_sid="FW" + "a" * 32)
    assert studio.configuration == {"flow_sid": "FW" + "a" * 32}
    updated = await call(webhooks(hook.sid).update, configuration_filters=["onMessageRemoved"])
    assert updated.configuration["filters"] == ["onMessageRemoved"]
    assert {w.sid for w in await call(webhooks.list)} == {hook.sid, studio.sid}
    assert (await call(webhooks(hook.sid).fetch)).configuration["url"] == f"{receiver.url}/scoped"
    assert await call(webhooks(hook.sid).delete) is True
    with pytest.raises(TwilioRestException):
        await call(webhooks(hook.sid).fetch)


async def test_at_most_five_scoped_webhooks_and_urls_pass_the_egress_policy(parley: RunningParley, receiver: Receiver) -> None:
    async with parley.client() as client:
        sid = (await client.post(f"{V1}/Conversations")).json()["sid"]
        path = f"{V1}/Conversations/{sid}/Webhooks"
        refused = await client.post(path, data={"Target": "webhook", "Configuration.Url": "http://10.1.2.3/hook"})
        assert refused.status_code == 400
        assert (await client.post(path, data={"Target": "webhook"})).status_code == 400
        for n in range(5):
            response = await client.post(path, data={"Target": "webhook", "Configuration.Url": f"{receiver.url}/{n}"})
            assert response.status_code == 201, response.text
        sixth = await client.post(path, data={"Target": "webhook", "Configuration.Url": f"{receiver.url}/6"})
        assert sixth.status_code == 400
        assert len((await client.get(path)).json()["webhooks"]) == 5


async def test_account_and_service_configuration_round_trip(parley: RunningParley, receiver: Receiver) -> None:
    client = twilio_client(parley).conversations.v1
    config = await call(client.configuration().update, default_inactive_timer="PT1H", default_closed_timer="P1D")
    assert config.default_inactive_timer == "PT1H" and config.default_closed_timer == "P1D"
    assert config.default_chat_service_sid.startswith("IS")
    hooks = await call(client.configuration.webhooks().update, method="GET", filters=["onMessageAdded"],
                       post_webhook_url=f"{receiver.url}/account", target="webhook")
    assert (hooks.method, hooks.filters, hooks.post_webhook_url) == ("GET", ["onMessageAdded"], f"{receiver.url}/account")
    assert (await call(client.configuration.webhooks().fetch)).post_webhook_url == f"{receiver.url}/account"
    service_hooks = client.services(config.default_chat_service_sid).configuration.webhooks()
    empty = await call(service_hooks.fetch)
    assert empty.post_webhook_url is None and empty.filters is None
    filled = await call(service_hooks.update, post_webhook_url=f"{receiver.url}/service", filters=["onConversationUpdated"],
                        method="POST")
    assert filled.post_webhook_url == f"{receiver.url}/service" and filled.chat_service_sid == config.default_chat_service_sid
    created = await call(client.conversations.create, friendly_name="timed", state="active")
    assert set(created.timers) == {"date_inactive", "date_closed"}  # the account's default timers apply


async def test_every_level_receives_the_events_its_filters_select(parley: RunningParley, receiver: Receiver,
                                                                 deliveries: EventTap) -> None:
    async with parley.client() as client:
        await client.post(f"{V1}/Configuration/Webhooks", data={
            "PostWebhookUrl": f"{receiver.url}/account", "Filters": ["onMessageAdded", "onConversationUpdated"]})
        service = (await client.get(f"{V1}/Configuration")).json()["default_chat_service_sid"]
        await client.post(f"{V1}/Services/{service}/Configuration/Webhooks", data={
            "PostWebhookUrl": f"{receiver.url}/service", "Filters": ["onMessageAdded"], "Method": "POST"})
        sid = (await client.post(f"{V1}/Conversations")).json()["sid"]
        await client.post(f"{V1}/Conversations/{sid}/Webhooks", data={
            "Target": "webhook", "Configuration.Url": f"{receiver.url}/scoped", "Configuration.Filters": "onMessageAdded"})
        await client.post(f"{V1}/Conversations/{sid}/Webhooks", data={
            "Target": "trigger", "Configuration.Url": f"{receiver.url}/trigger", "Configuration.Triggers": ["help"]})
        # Without the header a REST action fires nothing; with it, the post-event.
        await client.post(f"{V1}/Conversations/{sid}/Messages", data={"Body": "quiet, no help"})
        await client.post(f"{V1}/Conversations/{sid}/Messages", data={"Body": "hello"}, headers=ENABLED)
        await client.post(f"{V1}/Conversations/{sid}/Messages", data={"Body": "I need HELP now"}, headers=ENABLED)
        await client.post(f"{V1}/Conversations/{sid}", data={"FriendlyName": "renamed"}, headers=ENABLED)
    # One command per target: 3 + 3 + 1 (trigger) for the messages, 1 for the update.
    sent = await deliveries.wait_for(DELIVER_WEBHOOK, 8)
    by_path: dict[str, list[tuple[str | None, str | None]]] = {}
    for delivery in sent:
        by_path.setdefault(path_of(delivery), []).append((field(delivery, "EventType"), field(delivery, "Body")))
    assert by_path == {
        "/account": [("onMessageAdded", "hello"), ("onMessageAdded", "I need HELP now"), ("onConversationUpdated", None)],
        "/service": [("onMessageAdded", "hello"), ("onMessageAdded", "I need HELP now")],
        "/scoped": [("onMessageAdded", "hello"), ("onMessageAdded", "I need HELP now")],
        "/trigger": [("onMessageAdded", "I need HELP now")],
    }
    targets = {path_of(d): d["payload"]["target"] for d in sent}
    assert targets == {"/account": "account", "/service": "service", "/scoped": "conversation", "/trigger": "conversation"}
    scoped = next(d for d in sent if path_of(d) == "/scoped")
    assert field(scoped, "WebhookSid").startswith("WH") and field(scoped, "Source") == "API"
    assert field(scoped, "AccountSid") == parley.account.sid and scoped["payload"]["resource_sid"] == sid
    assert field(next(d for d in sent if path_of(d) == "/account"), "WebhookSid") is None


async def test_replay_after_sends_the_later_messages_to_a_new_hook(parley: RunningParley, receiver: Receiver,
                                                                  deliveries: EventTap) -> None:
    async with parley.client() as client:
        sid = (await client.post(f"{V1}/Conversations")).json()["sid"]
        for n in range(3):
            await client.post(f"{V1}/Conversations/{sid}/Messages", data={"Body": f"m{n}"})
        await client.post(f"{V1}/Conversations/{sid}/Webhooks", data={
            "Target": "webhook", "Configuration.Url": f"{receiver.url}/bot", "Configuration.Filters": "onMessageAdded",
            "Configuration.ReplayAfter": "0"})
    sent = await deliveries.wait_for(DELIVER_WEBHOOK, 2)
    assert [field(d, "Body") for d in sent] == ["m1", "m2"]


async def test_another_account_sees_404_for_webhook_configuration(parley: RunningParley, receiver: Receiver) -> None:
    async with parley.client() as client:
        sid = (await client.post(f"{V1}/Conversations")).json()["sid"]
        hook = (await client.post(f"{V1}/Conversations/{sid}/Webhooks", data={
            "Target": "webhook", "Configuration.Url": f"{receiver.url}/x"})).json()["sid"]
        service = (await client.get(f"{V1}/Configuration")).json()["default_chat_service_sid"]
    stranger = await create_account(parley)
    async with httpx.AsyncClient(base_url=parley.base_url, auth=(stranger.sid, stranger.auth_token)) as other:
        assert (await other.get(f"{V1}/Conversations/{sid}/Webhooks/{hook}")).status_code == 404
        assert (await other.get(f"{V1}/Services/{service}/Configuration/Webhooks")).status_code == 404
        assert (await other.get(f"{V1}/Configuration/Webhooks")).json()["post_webhook_url"] is None
