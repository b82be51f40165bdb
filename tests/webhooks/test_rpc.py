"""RPC over RabbitMQ: a reply on direct reply-to, a clear error when none comes or nobody could take the request."""

import asyncio
import time

import pytest
from pydantic import BaseModel

from shared.broker.connection import Broker
from shared.broker.topology import COMMANDS, PRE_EVENT_REQUESTS
from shared.contracts.envelope import Envelope
from shared.rpc import RpcClient, RpcServer, RpcTimeout, RpcUnroutable
from shared.settings import Settings

ACCOUNT = "AC" + "0" * 32


class Question(BaseModel):
    text: str
    delay: float = 0.0


class Answer(BaseModel):
    text: str


async def shout(envelope: Envelope[Question]) -> Answer:
    await asyncio.sleep(envelope.payload.delay)
    return Answer(text=envelope.payload.text.upper())


@pytest.fixture
async def broker(settings: Settings):
    connected = Broker(settings)
    await connected.connect()
    yield connected
    await connected.close()


@pytest.fixture
async def server(broker: Broker):
    answering = RpcServer(broker, queue=PRE_EVENT_REQUESTS, payload=Question, reply_type="test.answer", handler=shout,
                          prefetch=16)
    task = asyncio.create_task(answering.run())
    yield answering
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_concurrent_calls_each_get_their_own_reply(broker: Broker, server: RpcServer) -> None:
    client = RpcClient(broker)
    try:
        # Replies arrive out of order (later questions answer sooner); each goes to its own caller.
        answers = await asyncio.gather(*(
            client.call(COMMANDS, Question(text=f"q{n}", delay=0.02 * (10 - n)), type_="webhook.pre_event",
                        account_sid=ACCOUNT, reply=Answer, timeout=5)
            for n in range(10)
        ))
    finally:
        await client.close()
    assert [answer.text for answer in answers] == [f"Q{n}" for n in range(10)]


async def test_no_answer_in_time_is_a_clear_timeout(broker: Broker, server: RpcServer) -> None:
    client = RpcClient(broker)
    try:
        started = time.monotonic()
        with pytest.raises(RpcTimeout, match=r"no reply to webhook.pre_event within 0.3s"):
            await client.call(COMMANDS, Question(text="slow", delay=2), type_="webhook.pre_event", account_sid=ACCOUNT,
                              reply=Answer, timeout=0.3)
        assert time.monotonic() - started < 1.5
        # The late answer is dropped; the client goes on answering the next call.
        answer = await client.call(COMMANDS, Question(text="next"), type_="webhook.pre_event", account_sid=ACCOUNT,
                                   reply=Answer, timeout=5)
        assert answer.text == "NEXT"
    finally:
        await client.close()


async def test_a_request_nobody_serves_times_out_and_expires_unanswered(broker: Broker) -> None:
    client = RpcClient(broker)
    try:
        with pytest.raises(RpcTimeout):
            await client.call(COMMANDS, Question(text="anyone?"), type_="webhook.pre_event", account_sid=ACCOUNT,
                              reply=Answer, timeout=0.2)
    finally:
        await client.close()
    await asyncio.sleep(0.3)
    # The request carried its timeout as an expiration: a server starting later never answers it for nobody.
    answered: list[str] = []

    async def record(envelope: Envelope[Question]) -> Answer:
        answered.append(envelope.payload.text)
        return Answer(text="late")

    late = RpcServer(broker, queue=PRE_EVENT_REQUESTS, payload=Question, reply_type="test.answer", handler=record,
                     prefetch=4)
    task = asyncio.create_task(late.run())
    await asyncio.sleep(0.5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert answered == []


async def test_a_request_with_no_queue_to_take_it_is_refused_at_once(broker: Broker) -> None:
    client = RpcClient(broker)
    try:
        with pytest.raises(RpcUnroutable):
            await client.call(COMMANDS, Question(text="?"), type_="nobody.serves.this", account_sid=ACCOUNT,
                              reply=Answer, timeout=5)
    finally:
        await client.close()
