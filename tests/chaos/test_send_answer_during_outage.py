"""A provider's answer that comes back while PostgreSQL is down, on a cluster of the test's own: the sender waits
the outage out and records it, and the provider is never asked again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from services.ingress import store
from services.ingress.app import SERVICE as INGRESS
from services.ingress.domain.sends import SUBMITTED, Send
from shared.db import create_pool
from shared.settings import Settings
from tests.conftest import StartParley
from tests.ingress.carrier import create_provider
from tests.ingress.provider_api import FakeProviderApi, publish_send, send_command
from tests.support.own_postgres import OwnPostgres, own_postgres
from tests.support.receiver import Receiver
from tests.support.waiting import eventually

NUMBER = "+15550005555"
CUSTOMER = "+15557654321"
OUTAGE_SECONDS = 3.0


@pytest.fixture
def postgres() -> Iterator[OwnPostgres]:
    with own_postgres() as cluster:
        yield cluster


@pytest.fixture
def outage_settings(settings: Settings, postgres: OwnPostgres) -> Settings:
    # The send timeout outlasts the test: the attempt ends with the provider's answer, never our giving up.
    return settings.model_copy(update={"database_url": postgres.database_url, "send_timeout_seconds": 600.0})


async def test_an_answer_that_meets_a_database_outage_is_recorded_after_it_and_the_send_goes_once(
    launch: StartParley, outage_settings: Settings, postgres: OwnPostgres, receiver: Receiver,
) -> None:
    ingress = await launch([INGRESS], settings=outage_settings)
    provider_api = FakeProviderApi(receiver)
    receiver.hold = asyncio.Event()
    async with ingress.client() as client:
        await create_provider(client, NUMBER, ApiBaseUrl=provider_api.url)
    command = send_command(from_address=NUMBER, to_address=CUSTOMER, body="answered in the dark")
    await publish_send(ingress, command)

    async def hits() -> int:
        return len(receiver.attempts)

    await eventually(hits, what="the send at the provider")
    postgres.crash()
    receiver.hold.set()  # the provider takes it and says so while the database is down
    await eventually(lambda: asyncio.sleep(0, provider_api.sids()), what="the provider's answer")
    await asyncio.sleep(OUTAGE_SECONDS)
    postgres.start()

    records = await create_pool(outage_settings.database_url, schema=outage_settings.schema_name(INGRESS.name),
                                max_size=1)
    try:
        async def record() -> Send | None:
            return await store.get_send(records, message_sid=command.message_sid,
                                        participant_sid=command.participant_sid)

        # The barrier: submitted is final, so no claim takes the send again.
        submitted = await eventually(record, until=lambda send: send is not None and send.state == SUBMITTED,
                                     timeout=60, what="the send recorded as submitted")
    finally:
        await records.close()
    assert submitted is not None and submitted.channel_message_sid == provider_api.sids()[0]
    assert submitted.attempts == 1
    assert await hits() == 1
