"""Several webhooks instances: delivery commands are stored by one active consumer at a time, in the order
they were published, so one conversation's events keep their order whichever instance stores or sends them."""

from services.webhooks.app import SERVICE as WEBHOOKS
from shared.broker.topology import WEBHOOKS_DELIVERIES, queue_arguments
from shared.runtime import free_port
from tests.support.receiver import Receiver
from tests.webhooks.deliveries import delivery_command, publish_delivery

CONVERSATION = "CH" + "c" * 32


def test_the_deliveries_queue_has_a_single_active_consumer() -> None:
    arguments = queue_arguments(WEBHOOKS_DELIVERIES, dead_exchange="parley.dead", delivery_limit=5,
                                queue_name=WEBHOOKS_DELIVERIES.name)
    assert arguments["x-single-active-consumer"] is True
    assert arguments["x-queue-type"] == "quorum"


async def test_two_instances_keep_one_conversations_order(launch, receiver: Receiver) -> None:
    first = await launch([WEBHOOKS])
    await launch([WEBHOOKS], port=free_port())
    for n in range(60):
        await publish_delivery(first, delivery_command(f"{receiver.url}/hook", ordering_key=CONVERSATION,
                                                       params=[("N", str(n))]))
    delivered = await receiver.wait_for(60, timeout=60)
    assert [request.field("N") for request in delivered] == [str(n) for n in range(60)]
    assert len(receiver.attempts) == 60


async def test_when_the_active_instance_stops_the_next_one_carries_on_in_order_exactly_once(
    launch, receiver: Receiver
) -> None:
    active = await launch([WEBHOOKS])
    standby = await launch([WEBHOOKS], port=free_port())
    url = f"{receiver.url}/hook"
    for n in range(50):
        await publish_delivery(standby, delivery_command(url, ordering_key=CONVERSATION, params=[("N", str(n))]))
    await receiver.wait_for(5)
    await active.stop()  # commands it held unacknowledged go back to the queue, and to the standby, in order
    for n in range(50, 100):
        await publish_delivery(standby, delivery_command(url, ordering_key=CONVERSATION, params=[("N", str(n))]))
    delivered = await receiver.wait_for(100, timeout=90)
    assert [request.field("N") for request in delivered] == [str(n) for n in range(100)]
    assert len(receiver.requests) == 100
