"""Deliveries of one ordering key to one URL go one at a time in order; one slow endpoint holds back nobody else."""

from starlette.responses import Response

from services.webhooks.app import SERVICE as WEBHOOKS
from shared.runtime import free_port
from shared.settings import Settings
from tests.support.receiver import ReceivedRequest, Receiver
from tests.support.waiting import eventually
from tests.webhooks.deliveries import delivery_command, publish_delivery
from tests.webhooks.gated_receiver import GatedReceiver

CONVERSATION = "CH" + "a" * 32
OTHER_CONVERSATION = "CH" + "b" * 32


async def test_deliveries_with_one_ordering_key_arrive_in_order_even_when_early_ones_are_retried(
    launch, receiver: Receiver
) -> None:
    parley = await launch([WEBHOOKS])
    failures = {"0": 2, "5": 1, "10": 1, "20": 1}

    def fail_some_first_attempts(request: ReceivedRequest) -> Response | None:
        n = request.field("N") or ""
        if failures.get(n, 0) > 0:
            failures[n] -= 1
            return Response(status_code=503)
        return None

    receiver.responder = fail_some_first_attempts
    for n in range(30):
        await publish_delivery(parley, delivery_command(f"{receiver.url}/hook", ordering_key=CONVERSATION,
                                                        params=[("N", str(n))]))
    delivered = await receiver.wait_for(30, timeout=60)
    assert [request.field("N") for request in delivered] == [str(n) for n in range(30)]
    attempted = [int(request.field("N") or -1) for request in receiver.attempts]
    # One at a time: no delivery was even tried before every earlier one had been accepted.
    assert attempted == sorted(attempted)
    assert len(receiver.attempts) == 35


async def test_a_retrying_delivery_holds_back_only_its_own_ordering_key(
    launch, settings: Settings, receiver: Receiver
) -> None:
    parley = await launch([WEBHOOKS], settings=settings.model_copy(update={"webhook_max_attempts": 1000}))
    holding = True

    def fail_first_of_a_while_holding(request: ReceivedRequest) -> Response | None:
        return Response(status_code=500) if holding and request.field("N") == "a0" else None

    receiver.responder = fail_first_of_a_while_holding
    url = f"{receiver.url}/hook"
    for n in range(3):
        await publish_delivery(parley, delivery_command(url, ordering_key=CONVERSATION, params=[("N", f"a{n}")]))
    for n in range(5):
        await publish_delivery(parley, delivery_command(url, ordering_key=OTHER_CONVERSATION, params=[("N", f"b{n}")]))
        await publish_delivery(parley, delivery_command(url, params=[("N", f"free{n}")]))
    await receiver.wait_for(10, where=lambda request: not (request.field("N") or "").startswith("a"))
    # a0 is still failing: a1 and a2 wait behind it, untried, while b… and unordered ones went through.
    assert {request.field("N") for request in receiver.attempts if (request.field("N") or "").startswith("a")} == {"a0"}
    holding = False
    delivered = await receiver.wait_for(3, where=lambda request: (request.field("N") or "").startswith("a"))
    assert [request.field("N") for request in delivered] == ["a0", "a1", "a2"]
    assert [r.field("N") for r in receiver.requests if (r.field("N") or "").startswith("b")] == [f"b{n}" for n in range(5)]


async def test_a_stuck_endpoint_does_not_hold_back_another_endpoints_deliveries(
    launch, settings: Settings, receiver: Receiver
) -> None:
    parley = await launch([WEBHOOKS], settings=settings.model_copy(update={"webhook_timeout_seconds": 30}))
    limit = parley.settings.webhook_per_endpoint_concurrency
    stuck = GatedReceiver()
    await stuck.start()
    try:
        for n in range(limit + 4):
            await publish_delivery(parley, delivery_command(f"{stuck.url}/slow", params=[("N", str(n))]))

        async def held() -> int:
            return stuck.waiting

        await eventually(held, until=lambda waiting: waiting == limit, what="the stuck endpoint to fill its slots")
        for n in range(10):
            await publish_delivery(parley, delivery_command(f"{receiver.url}/fast", params=[("N", str(n))]))
        await receiver.wait_for(10)
        # Every delivery to the healthy endpoint arrived while the stuck one had answered nothing.
        assert stuck.requests == []
        assert stuck.most_waiting == limit
        stuck.gate.set()
        await stuck.wait_for(limit + 4)
        assert stuck.most_waiting == limit
    finally:
        stuck.gate.set()
        await stuck.stop()


async def test_two_instances_share_the_work_and_deliver_each_delivery_once(launch, receiver: Receiver) -> None:
    first = await launch([WEBHOOKS])
    await launch([WEBHOOKS], port=free_port())
    for n in range(40):
        await publish_delivery(first, delivery_command(f"{receiver.url}/hook", params=[("N", str(n))]))
    delivered = await receiver.wait_for(40, timeout=60)
    assert sorted(int(request.field("N") or -1) for request in delivered) == list(range(40))
    assert len(receiver.attempts) == 40
