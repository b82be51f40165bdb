"""A dead letter carries the last error its consumer reported, whether the report or the dead letter lands first."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.webhooks import handlers, store
from services.webhooks.app import SERVICE as WEBHOOKS
from services.webhooks.consumers import dead_letter_key
from shared.contracts.envelope import Envelope, make_envelope
from shared.contracts.fabric import CONSUMER_FAILED, ConsumerFailed
from shared.db import create_pool
from shared.runtime import prepare_database
from shared.settings import Settings

ACCOUNT = "AC" + "e" * 32


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    await prepare_database(settings, [WEBHOOKS])
    webhooks_pool = await create_pool(settings.database_url, schema=settings.schema_name("webhooks"), max_size=2)
    yield webhooks_pool
    await webhooks_pool.close()


def failure(message_id: str, error: str, *, at: datetime) -> Envelope[ConsumerFailed]:
    report = ConsumerFailed(queue="router.tasks", failed_message_id=uuid.UUID(message_id), error=error,
                            delivery_count=0)
    envelope = make_envelope(CONSUMER_FAILED, report, account_sid="system")
    return envelope.model_copy(update={"occurred_at": at})


async def die(pool: asyncpg.Pool, settings: Settings, message_id: str) -> str:
    """Record the message's dead-lettering from router.tasks; returns the dead letter's SID."""
    body = f'{{"message_id": "{message_id}", "account_sid": "{ACCOUNT}", "type": "task.create"}}'.encode()
    headers = {"x-death": [{"count": 1, "reason": "delivery_limit", "queue": settings.broker_name("router.tasks"),
                            "exchange": settings.broker_name("parley.commands"), "routing-keys": ["task.create"]}]}
    key = dead_letter_key(body, headers, message_id)
    async with pool.acquire() as conn, conn.transaction():
        await handlers.record_dead_letter(conn, body=body, headers=headers, message_id=message_id, key=key,
                                          broker_prefix=settings.broker_prefix)
        [dead] = await store.list_dead_letters(conn, account_sid=ACCOUNT, top_level=False, queue="router.tasks",
                                               status=None, after=None, before=None, limit=10)
    return dead.sid


async def report(pool: asyncpg.Pool, envelope: Envelope[ConsumerFailed]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await handlers.record_consumer_failure(conn, envelope)


async def error_of(pool: asyncpg.Pool, sid: str) -> str | None:
    async with pool.acquire() as conn:
        dead = await store.get_dead_letter(conn, account_sid=ACCOUNT, top_level=False, sid=sid)
    assert dead is not None
    return dead.error


async def test_report_before_the_dead_letter_is_copied_onto_it(pool: asyncpg.Pool, settings: Settings) -> None:
    message_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    await report(pool, failure(message_id, "KeyError: 'queue'", at=now))
    sid = await die(pool, settings, message_id)
    assert await error_of(pool, sid) == "KeyError: 'queue'"


async def test_report_after_the_dead_letter_is_joined_onto_it(pool: asyncpg.Pool, settings: Settings) -> None:
    message_id = str(uuid.uuid4())
    sid = await die(pool, settings, message_id)
    assert await error_of(pool, sid) is None
    await report(pool, failure(message_id, "TimeoutError: worker lookup", at=datetime.now(UTC)))
    assert await error_of(pool, sid) == "TimeoutError: worker lookup"


async def test_the_latest_report_wins_even_when_an_older_one_arrives_last(pool: asyncpg.Pool, settings: Settings) -> None:
    message_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    await report(pool, failure(message_id, "third attempt failed", at=now))
    sid = await die(pool, settings, message_id)
    await report(pool, failure(message_id, "first attempt failed", at=now - timedelta(seconds=2)))
    assert await error_of(pool, sid) == "third attempt failed"


async def test_a_dead_letter_is_recorded_once_however_often_it_is_redelivered(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    message_id = str(uuid.uuid4())
    await die(pool, settings, message_id)
    await die(pool, settings, message_id)  # the insert is keyed by the dead-lettering; a second one would fail above
