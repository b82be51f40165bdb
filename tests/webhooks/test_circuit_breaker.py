"""An endpoint that keeps failing is left alone for a cool-down: its deliveries wait instead of burning retries."""

from services.webhooks.app import SERVICE as WEBHOOKS
from services.webhooks.domain.circuit import CircuitBreakers
from tests.support.receiver import Receiver
from tests.support.waiting import eventually
from tests.webhooks.deliveries import delivery_command, delivery_reaching, delivery_sid, publish_delivery


def test_circuit_opens_after_consecutive_failures_and_closes_on_an_answer() -> None:
    circuits = CircuitBreakers(threshold=3, cooldown_seconds=10)
    for moment in (0.0, 1.0):
        circuits.record("http://a", answered=False, now=moment)
    assert circuits.open_endpoints(2.0) == []
    circuits.record("http://b", answered=False, now=2.0)
    circuits.record("http://a", answered=False, now=2.0)
    assert circuits.open_endpoints(2.5) == ["http://a"]
    assert circuits.open_endpoints(12.5) == []  # half-open: the next attempt probes
    circuits.record("http://a", answered=False, now=13.0)
    assert circuits.open_endpoints(13.5) == ["http://a"]  # a failed probe opens it again at once
    circuits.record("http://a", answered=True, now=30.0)
    circuits.record("http://a", answered=False, now=31.0)
    assert circuits.open_endpoints(31.5) == []  # an answer reset the count


async def test_a_failing_endpoint_stops_being_tried_while_others_flow(settings, launch, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    parley = await launch([WEBHOOKS], settings=settings.model_copy(update={
        "webhook_circuit_threshold": 2, "webhook_circuit_cooldown_seconds": 600.0, "webhook_max_attempts": 8,
        "webhook_backoff_base_seconds": 0.02, "webhook_backoff_max_seconds": 0.02,
    }))
    failing = Receiver(responses=[500] * 100)
    await failing.start()
    try:
        stuck = await publish_delivery(parley, delivery_command(f"{failing.url}/down"))
        async with parley.client() as client:
            await eventually(lambda: delivery_reaching(client, delivery_sid(stuck), "retrying"),
                             until=lambda found: found["attempt_count"] >= 2)
            # Each healthy delivery takes a dispatcher cycle; had the circuit stayed closed, the 20 ms
            # backoff would have let the failing one be tried again and again meanwhile.
            for n in range(5):
                healthy = await publish_delivery(parley, delivery_command(f"{receiver.url}/up", params=[("N", str(n))]))
                await delivery_reaching(client, delivery_sid(healthy), "delivered")
            stuck_now = await delivery_reaching(client, delivery_sid(stuck), "retrying")
    finally:
        await failing.stop()
    assert len(failing.attempts) == 2
    assert stuck_now["attempt_count"] == 2
