"""A workflow's AssignmentCallbackUrl hears of every reservation, signed, with TaskRouter's fields."""

import json

from services.webhooks.app import SERVICE as WEBHOOKS
from tests.router.conftest import Router
from tests.router.scenario import new_world
from tests.support.receiver import Receiver


async def test_each_reservation_is_posted_to_the_assignment_callback(router: Router, receiver: Receiver, launch) -> None:  # type: ignore[no-untyped-def]
    await launch([WEBHOOKS], http=False)
    world = await new_world(router)
    queue = await world.queue("Q")
    flow = await world.workflow({"default_filter": {"queue": queue}})
    await world.ws.workflows(flow).update_async(assignment_callback_url=f"{receiver.url}/assign")
    worker = await world.worker("w", {"skills": ["billing"]})
    task = await world.task(flow, {"topic": "billing"})
    (call,) = await receiver.wait_for(1)
    assert call.path == "/assign" and call.has_valid_signature(router.parley.account.auth_token)
    assert (call.field("TaskSid"), call.field("WorkerSid"), call.field("WorkflowSid"), call.field("TaskQueueSid")) == (
        task, worker, flow, queue)
    assert call.field("ReservationSid").startswith("WR") and call.field("WorkspaceSid") == world.workspace_sid
    assert json.loads(call.field("TaskAttributes") or "{}") == {"topic": "billing"}
    assert json.loads(call.field("WorkerAttributes") or "{}") == {"skills": ["billing"]}
