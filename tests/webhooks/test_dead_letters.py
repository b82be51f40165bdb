"""Whatever the fabric gives up on is listed at /parley/v1/DeadLetters with its reason and error, and can be replayed."""

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from services.webhooks.app import SERVICE as WEBHOOKS
from shared.broker.consumer import Consumer, ConsumerRunner
from shared.broker.topology import COMMANDS, DEAD, QueueSpec
from shared.contracts.envelope import Envelope, make_envelope
from shared.db import create_pool
from shared.settings import Settings
from tests.support.parley import RunningParley
from tests.support.receiver import Receiver
from tests.support.waiting import eventually
from tests.webhooks.accounts import client_as, create_subaccount, create_top_level_account
from tests.webhooks.deliveries import (
    dead_letters,
    delivery_command,
    delivery_reaching,
    delivery_sid,
    publish_delivery,
)


async def test_delivery_that_exhausts_its_budget_is_parked_and_replay_delivers_it_once(
    launch, receiver: Receiver
) -> None:
    parley = await launch([WEBHOOKS])
    port = receiver.port
    await receiver.stop()
    envelope = await publish_delivery(parley, delivery_command(f"{receiver.url}/hook", resource_sid="CH" + "c" * 32))
    sid = delivery_sid(envelope)
    async with parley.client() as client:
        failed = await delivery_reaching(client, sid, "failed")
        [dead] = await dead_letters(client, Queue="webhooks.deliveries")
        assert len(failed["attempts"]) == parley.settings.webhook_max_attempts
        assert dead["sid"].startswith("DX") and dead["webhook_delivery_sid"] == sid
        assert dead["reason"] == "delivery_limit" and dead["status"] == "parked"
        assert "ConnectError" in dead["error"]
        assert dead["routing_key"] == "webhook.deliver" and dead["account_sid"] == parley.account.sid
        assert dead["payload"]["resource_sid"] == "CH" + "c" * 32
        assert dead["links"]["webhook_delivery"].endswith(f"/parley/v1/WebhookDeliveries/{sid}")

        await receiver.start(port=port)
        replay = await client.post(f"/parley/v1/DeadLetters/{dead['sid']}/Replay")
        assert replay.status_code == 200, replay.text
        assert replay.json()["status"] == "replayed"
        await receiver.wait_for(1)
        delivered = await delivery_reaching(client, sid, "delivered")
        again = await client.post(f"/parley/v1/DeadLetters/{dead['sid']}/Replay")
    assert len(delivered["attempts"]) == parley.settings.webhook_max_attempts + 1
    assert delivered["attempts"][-1]["response_code"] == 200
    assert len(receiver.attempts) == 1
    assert again.status_code == 409 and again.json()["code"] == 90401


async def test_bulk_replay_resends_every_failed_delivery_to_a_url(launch, receiver: Receiver) -> None:
    parley = await launch([WEBHOOKS])
    url = f"{receiver.url}/hook"
    failing = {"/hook"}  # by path: the delivery to /elsewhere may arrive first
    receiver.responder = lambda request: Response(status_code=410) if request.path in failing else None
    envelopes = [await publish_delivery(parley, delivery_command(url, params=[("N", str(n))])) for n in range(2)]
    other = await publish_delivery(parley, delivery_command(f"{receiver.url}/elsewhere"))
    async with parley.client() as client:
        for envelope in envelopes:
            await delivery_reaching(client, delivery_sid(envelope), "failed")
        await delivery_reaching(client, delivery_sid(other), "delivered")
        failing.clear()
        response = await client.post("/parley/v1/WebhookDeliveries/Replay", data={"Status": "failed", "Url": url})
        assert response.status_code == 200, response.text
        assert response.json()["count"] == 2
        await receiver.wait_for(3)
        for envelope in envelopes:
            await delivery_reaching(client, delivery_sid(envelope), "delivered")
        parked = await dead_letters(client, Status="parked")
        replayed = await dead_letters(client, Status="replayed")
    assert parked == []
    assert {dead["webhook_delivery_sid"] for dead in replayed} == {delivery_sid(envelope) for envelope in envelopes}
    assert sorted(request.field("N") or "" for request in receiver.requests if request.path == "/hook") == ["0", "1"]


async def test_unparseable_command_is_rejected_to_the_dead_letters_while_later_ones_flow(
    launch, settings: Settings, receiver: Receiver
) -> None:
    parley = await launch([WEBHOOKS])
    broker = parley.runtime.broker
    garbage_id = str(uuid.uuid4())
    await broker.publish(COMMANDS, "webhook.deliver", b"this is not json {", message_id=garbage_id)
    after = await publish_delivery(parley, delivery_command(f"{receiver.url}/hook"))
    async with parley.client() as client:
        await delivery_reaching(client, delivery_sid(after), "delivered")
        [dead] = await eventually(lambda: dead_letters(client, Queue="webhooks.deliveries"),
                                  until=lambda found: len(found) == 1 and found[0]["error"], what="the dead letter")
        assert dead["reason"] == "rejected"
        assert dead["error"].startswith("invalid message")
        assert dead["payload"] == "this is not json {"
        assert dead["account_sid"] is None and dead["message_id"] == garbage_id
        assert dead["routing_key"] == "webhook.deliver"

        # Not attributable to an account: the operator's (top-level accounts) business, not a subaccount's.
        other_business = await create_top_level_account(settings)
        team = await create_subaccount(parley)
        async with client_as(parley, other_business) as other, client_as(parley, team) as sub:
            assert [found["sid"] for found in (await other.get("/parley/v1/DeadLetters")).json()["dead_letters"]] == [
                dead["sid"]]
            assert (await sub.get("/parley/v1/DeadLetters")).json()["dead_letters"] == []
            hidden = await sub.get(f"/parley/v1/DeadLetters/{dead['sid']}")
            assert hidden.status_code == 404 and hidden.json()["code"] == 20404

        # Replayed, it dies again: a second dead letter, not mistaken for a redelivery of the first.
        assert (await client.post(f"/parley/v1/DeadLetters/{dead['sid']}/Replay")).status_code == 200
        died_again = await eventually(lambda: dead_letters(client, Queue="webhooks.deliveries", Status="parked"),
                                      until=lambda found: len(found) == 1, what="the second dead letter")
    assert died_again[0]["sid"] != dead["sid"]
    assert died_again[0]["message_id"] == garbage_id and died_again[0]["payload"] == "this is not json {"


class Dish(BaseModel):
    name: str


@dataclass
class Kitchen:
    """A test's own queue and consumer, whose handler fails on "poison" while `broken`."""

    parley: RunningParley
    spec: QueueSpec
    broken: bool = True
    cooked: list[str] = field(default_factory=list)
    poison_tries: int = 0

    async def cook(self, conn: Any, envelope: Envelope[Any]) -> None:
        if envelope.payload.name == "poison":
            self.poison_tries += 1
            if self.broken:
                raise RuntimeError("cannot digest poison")
        self.cooked.append(envelope.payload.name)

    async def publish(self, name: str) -> Envelope[Any]:
        envelope = make_envelope("tests.cook", Dish(name=name), account_sid=self.parley.account.sid)
        await self.parley.runtime.broker.publish(COMMANDS, "tests.cook", envelope.to_bytes(),
                                                 message_id=str(envelope.message_id))
        return envelope

    async def cooked_so_far(self) -> list[str]:
        return list(self.cooked)


@contextlib.asynccontextmanager
async def kitchen_of(parley: RunningParley, spec: QueueSpec) -> AsyncIterator[Kitchen]:
    settings = parley.settings
    broker = parley.runtime.broker
    await broker.declare([spec])
    kitchen = Kitchen(parley, spec)
    pool = await create_pool(settings.database_url, schema=settings.schema_name("webhooks"), max_size=2)
    runner = ConsumerRunner(Consumer(queue=spec, payload=Dish, handler=kitchen.cook), broker=broker, pool=pool,
                            prefetch=8)
    await runner.start()
    try:
        yield kitchen
    finally:
        await runner.stop()
        await pool.close()
        channel = await broker.connection.channel()
        await channel.queue_delete(settings.broker_name(spec.name))
        await channel.close()


async def test_message_a_consumer_always_fails_on_is_parked_after_the_delivery_limit_with_its_error(
    launch, settings: Settings
) -> None:
    parley = await launch([WEBHOOKS])
    async with kitchen_of(parley, QueueSpec("tests.kitchen", COMMANDS, ("tests.cook",))) as kitchen:
        poison = await kitchen.publish("poison")
        for n in range(5):
            await kitchen.publish(f"soup {n}")
        await eventually(kitchen.cooked_so_far, until=lambda names: len(names) == 5,
                         what="the dishes behind the poison")
        async with parley.client() as client:
            [dead] = await eventually(lambda: dead_letters(client, Queue="tests.kitchen"),
                                      until=lambda found: len(found) == 1 and found[0]["error"], what="the dead letter")
            assert dead["reason"] == "delivery_limit"
            assert dead["error"] == "RuntimeError: cannot digest poison"
            assert dead["routing_key"] == "tests.cook"
            assert dead["account_sid"] == parley.account.sid
            assert dead["message_id"] == str(poison.message_id)
            assert dead["payload"]["payload"] == {"name": "poison"}
            fetched = (await client.get(f"/parley/v1/DeadLetters/{dead['sid']}")).json()
            assert fetched == dead

            kitchen.broken = False
            replay = await client.post(f"/parley/v1/DeadLetters/{dead['sid']}/Replay")
            assert replay.status_code == 200 and replay.json()["status"] == "replayed"
            await eventually(kitchen.cooked_so_far, until=lambda names: "poison" in names, what="the replayed poison")
        assert sorted(kitchen.cooked) == ["poison", *(f"soup {n}" for n in range(5))]


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_message_a_consumer_fails_on_where_nothing_parks_it_is_retried_with_backoff_in_a_few_lines(
    launch, settings: Settings
) -> None:
    parley = await launch([WEBHOOKS])
    lines = Lines()
    consumer_log = logging.getLogger("shared.broker.consumer")
    consumer_log.addHandler(lines)
    # Like the fabric's own dead letters and failure reports: no delivery limit, so a requeue would loop at once.
    spec = QueueSpec("tests.bottomless", COMMANDS, ("tests.cook",), dead_letters=False)
    try:
        async with kitchen_of(parley, spec) as kitchen:
            await kitchen.publish("poison")
            for n in range(5):
                await kitchen.publish(f"soup {n}")

            async def progress() -> tuple[int, int]:
                return len(kitchen.cooked), kitchen.poison_tries

            # The barrier: the queue flowed past the poison, which was tried several times meanwhile.
            await eventually(progress, until=lambda seen: seen[0] == 5 and seen[1] >= 4, timeout=30,
                             what="the dishes behind the poison and a few tries of it")
            told = [record for record in lines.records if record.getMessage().find("queue tests.bottomless") >= 0]
            assert len(told) == 1 and told[0].exc_info is not None, [record.getMessage() for record in told]
            assert "handler failed" in told[0].getMessage()

            kitchen.broken = False
            await eventually(kitchen.cooked_so_far, until=lambda names: "poison" in names, what="the poison at last")
            assert "handler succeeded" in lines.records[-1].getMessage()
        assert sorted(kitchen.cooked) == ["poison", *(f"soup {n}" for n in range(5))]
    finally:
        consumer_log.removeHandler(lines)


async def test_replay_refused_by_the_broker_leaves_the_dead_letter_parked(launch, settings: Settings) -> None:
    parley = await launch([WEBHOOKS])
    # A message dead-lettered by hand, naming no queue it could go back to.
    await parley.runtime.broker.publish(DEAD, "dead.ghost", b'{"hello": "world"}', message_id=str(uuid.uuid4()))
    async with parley.client() as client:
        [dead] = await eventually(lambda: dead_letters(client), until=lambda found: len(found) == 1,
                                  what="the hand-made dead letter")
        replay = await client.post(f"/parley/v1/DeadLetters/{dead['sid']}/Replay")
        after = (await client.get(f"/parley/v1/DeadLetters/{dead['sid']}")).json()
    assert dead["queue"] == "unknown" and dead["payload"] == {"hello": "world"}
    assert replay.status_code == 503 and replay.json()["code"] == 90402
    assert after["status"] == "parked"
