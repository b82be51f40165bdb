"""The routing scenarios of TaskRouter: filters, priorities, target timeouts, reservations, capacity, known workers."""

import json

from tests.router.conftest import Router
from tests.router.scenario import new_world
from tests.support.receiver import Receiver
from tests.support.waiting import eventually


async def test_skills_filter_sends_the_task_to_the_right_queue_and_worker(router: Router) -> None:
    world = await new_world(router)
    english = await world.queue("English", "languages HAS 'en'")
    spanish = await world.queue("Spanish", "languages HAS 'es'")
    flow = await world.workflow({"filters": [
        {"filter_friendly_name": "es", "expression": "language == 'es'", "targets": [{"queue": spanish}]},
        {"filter_friendly_name": "en", "expression": "language == 'en'", "targets": [{"queue": english}]},
    ], "default_filter": {"queue": english}})
    await world.worker("ana", {"languages": ["es"]})
    bob = await world.worker("bob", {"languages": ["en"]})
    task = await world.task(flow, {"language": "en"})
    reservation = await world.pending_reservation(task)
    assert reservation.worker_sid == bob
    assert (await world.fetch_task(task)).task_queue_sid == english
    assert (await world.fetch_task(task)).assignment_status == "reserved"
    types = await world.event_types(task)
    assert {"task.created", "workflow.entered", "workflow.target-matched", "task-queue.entered",
            "reservation.created"} <= set(types)


async def test_priority_overtakes_age_in_a_queue(router: Router) -> None:
    world = await new_world(router)
    queue = await world.queue("Q")
    flow = await world.workflow({"default_filter": {"queue": queue}})
    old_low = await world.task(flow, priority=1)
    new_high = await world.task(flow, priority=10)
    worker = await world.worker("solo")
    reservation = await world.pending_reservation(new_high)
    assert reservation.worker_sid == worker
    assert (await world.fetch_task(old_low)).assignment_status == "pending"


async def test_target_timeout_escalates_to_the_next_queue(router: Router) -> None:
    world = await new_world(router)
    first = await world.queue("Tier1", "tier == 1")
    second = await world.queue("Tier2", "tier == 2")
    flow = await world.workflow({"filters": [{"expression": "1==1", "targets": [
        {"queue": first, "timeout": 1}, {"queue": second}]}]})
    tier2 = await world.worker("senior", {"tier": 2})
    task = await world.task(flow)
    reservation = await world.pending_reservation(task)
    assert reservation.worker_sid == tier2
    assert (await world.fetch_task(task)).task_queue_sid == second
    assert {"task-queue.timeout", "task-queue.moved"} <= set(await world.event_types(task))


async def test_reservation_timeout_moves_worker_to_timeout_activity_and_reoffers_the_task(router: Router) -> None:
    world = await new_world(router)
    queue = await world.queue("Q")
    flow = await world.workflow({"default_filter": {"queue": queue}}, reservation_timeout=1)
    first = await world.worker("first")
    task = await world.task(flow)
    offered = await world.pending_reservation(task)
    assert offered.worker_sid == first
    second = await world.worker("second")
    async def reservations_to_second() -> list:
        return [r for r in await world.reservations(task, "pending") if r.worker_sid == second]
    await eventually(reservations_to_second, timeout=15, what="re-offer to the second worker")
    timed_out = await world.ws.tasks(task).reservations(offered.sid).fetch_async()
    assert timed_out.reservation_status == "timeout"
    assert (await world.ws.workers(first).fetch_async()).activity_name == "Offline"
    # The second lets it lapse too; the first, back, is offered it again: a lapsed offer excludes nobody for good.
    await eventually(lambda: world.ws.workers(second).fetch_async(), until=lambda w: w.activity_name == "Offline",
                     what="the second worker moved to the timeout activity")
    await world.set_activity(first, "Available")
    again = await eventually(lambda: world.reservations(task, "pending"),
                             until=lambda found: bool(found) and found[0].worker_sid == first,
                             what="the task offered again to the first worker")
    assert again[0].sid != offered.sid


async def test_capacity_three_on_chat_gets_three_tasks_and_the_fourth_waits(router: Router) -> None:
    world = await new_world(router)
    queue = await world.queue("Chat")
    flow = await world.workflow({"default_filter": {"queue": queue}})
    agent = await world.worker("agent", capacity={"chat": 3})
    tasks = [await world.task(flow, task_channel="chat") for _ in range(4)]
    reserved = [await world.pending_reservation(task) for task in tasks[:3]]
    assert {r.worker_sid for r in reserved} == {agent}
    channel = await world.ws.workers(agent).worker_channels("chat").fetch_async()
    assert (channel.assigned_tasks, channel.available_capacity_percentage) == (3, 0)
    assert (await world.fetch_task(tasks[3])).assignment_status == "pending"
    # Accepting keeps capacity; completing frees it and the fourth task is offered.
    await world.ws.tasks(tasks[0]).reservations(reserved[0].sid).update_async(reservation_status="accepted")
    assert (await world.fetch_task(tasks[0])).assignment_status == "assigned"
    assert (await world.fetch_task(tasks[3])).assignment_status == "pending"
    await world.ws.tasks(tasks[0]).update_async(assignment_status="wrapping")
    assert (await world.fetch_task(tasks[3])).assignment_status == "pending"
    await world.ws.tasks(tasks[0]).update_async(assignment_status="completed")
    assert (await world.pending_reservation(tasks[3])).worker_sid == agent


async def test_known_worker_routing_offers_only_that_worker(router: Router) -> None:
    world = await new_world(router)
    queue = await world.queue("Q")
    flow = await world.workflow({"filters": [{"expression": "1==1", "targets": [
        {"queue": queue, "known_worker_sid": "task.preferred"}]}]})
    await world.worker("idle-longest")
    chosen = await world.worker("chosen")
    task = await world.task(flow, {"preferred": chosen})
    assert (await world.pending_reservation(task)).worker_sid == chosen
    by_name = await world.workflow({"filters": [{"expression": "1==1", "targets": [
        {"queue": queue, "known_worker_friendly_name": "task.agent"}]}]})
    named = await world.worker("named")
    second = await world.task(by_name, {"agent": "named"})
    assert (await world.pending_reservation(second)).worker_sid == named


async def test_skip_if_skips_an_empty_queue(router: Router) -> None:
    world = await new_world(router)
    empty = await world.queue("Nobody", "team == 'ghosts'")
    staffed = await world.queue("Staffed", "team == 'live'")
    flow = await world.workflow({"filters": [{"expression": "1==1", "targets": [
        {"queue": empty, "skip_if": "workers.available == 0", "timeout": 300}, {"queue": staffed}]}]})
    live = await world.worker("live", {"team": "live"})
    task = await world.task(flow)
    assert (await world.pending_reservation(task)).worker_sid == live
    assert "workflow.skipped" in await world.event_types(task)


async def test_order_by_and_target_expression_choose_among_queue_members(router: Router) -> None:
    world = await new_world(router)
    queue = await world.queue("Q")
    flow = await world.workflow({"filters": [{"expression": "1==1", "targets": [
        {"queue": queue, "expression": "worker.region == task.region", "order_by": "worker.level DESC"}]}]})
    await world.worker("eu-junior", {"region": "eu", "level": 1})
    senior = await world.worker("eu-senior", {"region": "eu", "level": 5})
    await world.worker("us-expert", {"region": "us", "level": 9})
    task = await world.task(flow, {"region": "eu"})
    assert (await world.pending_reservation(task)).worker_sid == senior


async def test_rejected_reservation_goes_to_another_worker_and_task_ttl_cancels(router: Router) -> None:
    world = await new_world(router)
    queue = await world.queue("Q", max_reserved_workers=1)
    flow = await world.workflow({"default_filter": {"queue": queue}})
    first = await world.worker("first")
    task = await world.task(flow, timeout=3)
    offered = await world.pending_reservation(task)
    assert offered.worker_sid == first
    second = await world.worker("second")
    await world.ws.workers(first).reservations(offered.sid).update_async(reservation_status="rejected")
    # Both may have it again; the longest idle does, and a reject's freed capacity starts `first`'s idle time anew.
    again = await world.pending_reservation(task)
    assert again.worker_sid == second
    canceled = await world.task_status(task, "canceled")
    assert canceled.reason == "Task TTL Exceeded"
    assert (await world.ws.tasks(task).reservations(again.sid).fetch_async()).reservation_status == "canceled"


async def test_the_only_available_worker_who_rejects_is_offered_the_task_again(router: Router) -> None:
    world = await new_world(router)
    queue = await world.queue("Q")
    flow = await world.workflow({"default_filter": {"queue": queue}})
    solo = await world.worker("solo")
    task = await world.task(flow)
    first = await world.pending_reservation(task)
    await world.ws.workers(solo).reservations(first.sid).update_async(reservation_status="rejected")

    async def new_offers() -> list:
        return [r for r in await world.reservations(task, "pending") if r.sid != first.sid]
    (again,) = await eventually(new_offers, what="the task offered again to the worker who rejected it")
    assert again.worker_sid == solo
    assert (await world.ws.tasks(task).reservations(first.sid).fetch_async()).reservation_status == "rejected"


async def test_rejecting_into_an_unavailable_activity_holds_the_task_until_the_worker_is_back(router: Router) -> None:
    world = await new_world(router)
    queue = await world.queue("Q", "team == 'solo'")
    flow = await world.workflow({"default_filter": {"queue": queue}})
    solo = await world.worker("solo", {"team": "solo"})
    task = await world.task(flow)
    offered = await world.pending_reservation(task)
    await world.ws.workers(solo).reservations(offered.sid).update_async(
        reservation_status="rejected", worker_activity_sid=world.activities["Unavailable"])
    waiting = await world.task_status(task, "pending")
    assert waiting.assignment_status == "pending"
    assert (await world.ws.workers(solo).fetch_async()).activity_name == "Unavailable"
    # The barrier: a task of another queue created after the reject is offered, so the router has dispatched
    # since; the rejected task still waits, offered to nobody.
    elsewhere = await world.queue("Elsewhere", "team == 'other'")
    other_flow = await world.workflow({"default_filter": {"queue": elsewhere}})
    await world.worker("other", {"team": "other"})
    await world.pending_reservation(await world.task(other_flow))
    assert await world.reservations(task, "pending") == []
    assert (await world.fetch_task(task)).assignment_status == "pending"

    await world.set_activity(solo, "Available")
    again = await world.pending_reservation(task)
    assert again.worker_sid == solo


async def test_first_acceptance_rescinds_the_other_offers(router: Router) -> None:
    world = await new_world(router)
    queue = await world.queue("Q", max_reserved_workers=2)
    flow = await world.workflow({"default_filter": {"queue": queue}})
    await world.worker("a")
    await world.worker("b")
    task = await world.task(flow)
    offers = await eventually(lambda: world.reservations(task, "pending"), until=lambda found: len(found) == 2)
    await world.ws.tasks(task).reservations(offers[1].sid).update_async(reservation_status="accepted")
    statuses = {r.sid: r.reservation_status for r in await world.reservations(task)}
    assert statuses == {offers[0].sid: "rescinded", offers[1].sid: "accepted"}


async def test_event_callback_url_receives_filtered_taskrouter_events(router: Router, receiver: Receiver,
                                                                      launch) -> None:  # type: ignore[no-untyped-def]
    from services.webhooks.app import SERVICE as WEBHOOKS

    await launch([WEBHOOKS], http=False)
    world = await new_world(router, event_callback_url=f"{receiver.url}/events",
                            events_filter="task.created,reservation.created")
    queue = await world.queue("Q")
    flow = await world.workflow({"default_filter": {"queue": queue}})
    worker = await world.worker("w")
    task = await world.task(flow, {"topic": "billing"})
    delivered = await receiver.wait_for(2)
    assert [r.field("EventType") for r in delivered] == ["task.created", "reservation.created"]
    created, reserved = delivered
    assert created.field("TaskSid") == task and json.loads(created.field("TaskAttributes") or "{}") == {"topic": "billing"}
    assert created.field("WorkspaceSid") == world.workspace_sid and created.field("ResourceType") == "Task"
    assert reserved.field("WorkerSid") == worker and reserved.field("ReservationSid", ).startswith("WR")
    assert reserved.has_valid_signature(router.parley.account.auth_token)


async def test_without_multitasking_a_worker_holds_one_task_across_channels(router: Router) -> None:
    world = await new_world(router, multi_task_enabled=False)
    queue = await world.queue("All")
    flow = await world.workflow({"default_filter": {"queue": queue}})
    ana = await world.worker("ana", capacity={"chat": 3})  # idle longest: first choice while free
    bob = await world.worker("bob")
    first = await world.task(flow, task_channel="chat")
    assert (await world.pending_reservation(first)).worker_sid == ana
    # With multitasking ana (chat capacity 3, still the longest idle) would get this one too.
    second = await world.task(flow, task_channel="chat")
    assert (await world.pending_reservation(second)).worker_sid == bob
    third = await world.task(flow, task_channel="default")
    await world.ws.tasks(first).reservations((await world.reservations(first))[0].sid).update_async(
        reservation_status="accepted")
    await world.ws.tasks(first).update_async(assignment_status="completed")
    # Ana is free again (one task at a time, whatever the channel): the waiting task is hers.
    assert (await world.pending_reservation(third)).worker_sid == ana
    assert len(await world.reservations(third)) == 1
