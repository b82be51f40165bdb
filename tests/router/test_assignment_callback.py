"""A workflow's AssignmentCallbackUrl hears of every reservation, signed, with TaskRouter's fields, and its answer
(an instruction) accepts or rejects the reservation."""

import json

from starlette.responses import JSONResponse, Response

from services.webhooks.app import SERVICE as WEBHOOKS
from shared.broker.topology import ROUTER_ASSIGNMENT_CALLBACKS
from tests.router.conftest import Router
from tests.router.engine_checks import router_connection
from tests.router.scenario import new_world
from tests.support.receiver import ReceivedRequest, Receiver
from tests.support.waiting import eventually


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


def answering(receiver: Receiver, answers: dict[str, dict[str, str]]) -> None:
    """The receiver answers each worker's reservation with the JSON instruction given for that worker."""
    def respond(request: ReceivedRequest) -> Response:
        answer = answers.get(request.field("WorkerSid") or "")
        return JSONResponse(answer) if answer is not None else Response(status_code=200)
    receiver.responder = respond


async def test_the_callback_answer_accepts_or_rejects_the_reservation(router: Router, receiver: Receiver,  # type: ignore[no-untyped-def]
                                                                      launch) -> None:
    await launch([WEBHOOKS], http=False)
    world = await new_world(router)
    queue = await world.queue("Q", target_workers="skill == 'x'")
    flow = await world.workflow({"default_filter": {"queue": queue}})
    await world.ws.workflows(flow).update_async(assignment_callback_url=f"{receiver.url}/assign")
    yes = await world.worker("yes", {"skill": "x"})
    no = await world.worker("no", {"skill": "x"}, available=False)
    voice = await world.worker("voice", {"skill": "x"}, available=False)
    answering(receiver, {yes: {"instruction": "accept"},
                         no: {"instruction": "reject", "activity_sid": world.activities["Offline"]},
                         voice: {"instruction": "dequeue"}})

    accepted_task = await world.task(flow)
    await world.task_status(accepted_task, "assigned")
    (accepted,) = await world.reservations(accepted_task)
    assert (accepted.worker_sid, accepted.reservation_status) == (yes, "accepted")

    # The accepting worker is busy now; the next task goes to "no", who rejects it and goes Offline.
    await world.set_activity(no, "Available")
    rejected_task = await world.task(flow)
    worker = await eventually(lambda: world.ws.workers(no).fetch_async(),
                              until=lambda w: w.activity_sid == world.activities["Offline"], what="no goes offline")
    assert worker.available is False
    (rejected,) = await world.reservations(rejected_task)
    assert (rejected.worker_sid, rejected.reservation_status) == (no, "rejected")
    await world.task_status(rejected_task, "pending")

    # A voice instruction means nothing to a chat task: the reservation stays pending.
    await world.set_activity(voice, "Available")
    offered = await world.pending_reservation(rejected_task)
    assert offered.worker_sid == voice
    await receiver.wait_for(3)
    conn = await router_connection(router.parley.settings)
    try:  # every callback's answer handled (the consumer's inbox) and the voice one left the offer alone
        await eventually(lambda: conn.fetchval("SELECT count(*) FROM processed_messages WHERE consumer = $1",
                                               ROUTER_ASSIGNMENT_CALLBACKS.name), until=lambda n: n == 3,
                         what="three callback answers handled")
    finally:
        await conn.close()
    assert [r.reservation_status for r in await world.reservations(rejected_task)] == ["rejected", "pending"]
