"""TaskRouter resources through the official twilio library: create, fetch, list with paging, update, delete."""

import json

import httpx

from tests.router.conftest import Router, twilio_client

ROOT = "/taskrouter/v1/Workspaces"


async def test_new_workspace_has_twilio_default_activities_and_task_channels(router: Router) -> None:
    tr = router.client.taskrouter.v1
    workspace = await tr.workspaces.create_async(friendly_name="Support")
    assert workspace.sid.startswith("WS") and workspace.default_activity_name == "Offline"
    assert workspace.timeout_activity_name == "Offline" and workspace.multi_task_enabled is True
    activities = await tr.workspaces(workspace.sid).activities.list_async()
    assert {(a.friendly_name, a.available) for a in activities} == {
        ("Offline", False), ("Available", True), ("Unavailable", False)}
    channels = await tr.workspaces(workspace.sid).task_channels.list_async()
    assert sorted(c.unique_name for c in channels) == ["chat", "default", "sms", "video", "voice"]
    fetched = await tr.workspaces(workspace.sid).fetch_async()
    assert fetched.friendly_name == "Support" and fetched.url.endswith(f"{ROOT}/{workspace.sid}")
    updated = await tr.workspaces(workspace.sid).update_async(friendly_name="Sales", events_filter="task.created")
    assert (updated.friendly_name, updated.events_filter) == ("Sales", "task.created")
    assert await tr.workspaces(workspace.sid).delete_async()
    async with router.parley.client() as http:
        assert (await http.get(f"{ROOT}/{workspace.sid}")).status_code == 404


async def test_lists_page_through_every_item_with_keyset_tokens(router: Router) -> None:
    tr = router.client.taskrouter.v1
    workspace = await tr.workspaces.create_async(friendly_name="Paging")
    for number in range(7):
        await tr.workspaces(workspace.sid).workers.create_async(friendly_name=f"agent {number}")
    page = await tr.workspaces(workspace.sid).workers.page_async(page_size=3)
    assert len(list(page)) == 3 and page.next_page_url
    everything = await tr.workspaces(workspace.sid).workers.list_async(page_size=3)
    assert sorted(w.friendly_name for w in everything) == [f"agent {n}" for n in range(7)]


async def test_workers_have_channels_with_capacity_and_follow_their_activity(router: Router) -> None:
    tr = router.client.taskrouter.v1
    workspace = await tr.workspaces.create_async(friendly_name="Workers")
    ws = tr.workspaces(workspace.sid)
    available = next(a for a in await ws.activities.list_async() if a.friendly_name == "Available")
    worker = await ws.workers.create_async(friendly_name="alice", attributes=json.dumps({"skills": ["en"]}))
    assert (worker.activity_name, worker.available) == ("Offline", False)
    worker = await ws.workers(worker.sid).update_async(activity_sid=available.sid)
    assert (worker.activity_name, worker.available) == ("Available", True)
    channels = await ws.workers(worker.sid).worker_channels.list_async()
    assert len(channels) == 5 and all(c.configured_capacity == 1 for c in channels)
    chat = await ws.workers(worker.sid).worker_channels("chat").update_async(capacity=3)
    assert (chat.configured_capacity, chat.available_capacity_percentage, chat.task_channel_unique_name) == (3, 100, "chat")
    assert [w.sid for w in await ws.workers.list_async(available="true")] == [worker.sid]
    assert [w.sid for w in await ws.workers.list_async(target_workers_expression="skills HAS 'en'")] == [worker.sid]
    assert await ws.workers.list_async(target_workers_expression="skills HAS 'fr'") == []
    assert await ws.workers(worker.sid).delete_async()


async def test_activities_and_task_channels_are_created_renamed_and_deleted(router: Router) -> None:
    tr = router.client.taskrouter.v1
    ws = tr.workspaces((await tr.workspaces.create_async(friendly_name="Things")).sid)
    activity = await ws.activities.create_async(friendly_name="Lunch", available=False)
    assert (await ws.activities(activity.sid).update_async(friendly_name="Break")).friendly_name == "Break"
    assert [a.sid for a in await ws.activities.list_async(friendly_name="Break")] == [activity.sid]
    assert await ws.activities(activity.sid).delete_async()
    channel = await ws.task_channels.create_async(friendly_name="Email", unique_name="email")
    assert (await ws.task_channels("email").fetch_async()).sid == channel.sid
    assert (await ws.task_channels(channel.sid).update_async(friendly_name="Mail")).friendly_name == "Mail"
    assert await ws.task_channels(channel.sid).delete_async()


async def test_queues_workflows_and_tasks_round_trip(router: Router) -> None:
    tr = router.client.taskrouter.v1
    ws = tr.workspaces((await tr.workspaces.create_async(friendly_name="Routing")).sid)
    queue = await ws.task_queues.create_async(friendly_name="English", target_workers="languages HAS 'en'",
                                              max_reserved_workers=2, task_order="LIFO")
    assert (queue.target_workers, queue.max_reserved_workers, queue.task_order) == ("languages HAS 'en'", 2, "LIFO")
    config = {"task_routing": {"filters": [{"filter_friendly_name": "en", "expression": "language == 'en'",
                                            "targets": [{"queue": queue.sid, "timeout": 30}]}],
                               "default_filter": {"queue": queue.sid}}}
    workflow = await ws.workflows.create_async(friendly_name="Main", configuration=json.dumps(config),
                                               task_reservation_timeout=60)
    assert workflow.task_reservation_timeout == 60 and json.loads(workflow.configuration) == config
    task = await ws.tasks.create_async(attributes=json.dumps({"language": "en"}), workflow_sid=workflow.sid,
                                       task_channel="chat", priority=5)
    assert (task.assignment_status, task.task_queue_sid, task.priority, task.task_channel_unique_name) == (
        "pending", queue.sid, 5, "chat")
    assert task.workflow_friendly_name == "Main" and task.task_queue_friendly_name == "English"
    listed = await ws.tasks.list_async(assignment_status=["pending"], evaluate_task_attributes="language == 'en'")
    assert [t.sid for t in listed] == [task.sid]
    assert await ws.tasks.list_async(evaluate_task_attributes="language == 'fr'") == []
    updated = await ws.tasks(task.sid).update_async(priority=9, attributes=json.dumps({"language": "en", "vip": True}))
    assert updated.priority == 9 and json.loads(updated.attributes)["vip"] is True
    canceled = await ws.tasks(task.sid).update_async(assignment_status="canceled", reason="customer left")
    assert (canceled.assignment_status, canceled.reason) == ("canceled", "customer left")
    assert await ws.tasks(task.sid).reservations.list_async() == []
    events = await ws.events.list_async(task_sid=task.sid)
    assert {"task.created", "task-queue.entered", "task.canceled"} <= {e.event_type for e in events}
    assert await ws.tasks(task.sid).delete_async()
    assert (await ws.workflows(workflow.sid).update_async(friendly_name="Renamed")).friendly_name == "Renamed"
    assert await ws.workflows(workflow.sid).delete_async()
    assert await ws.task_queues(queue.sid).delete_async()


async def test_statistics_report_their_documented_fields(router: Router) -> None:
    tr = router.client.taskrouter.v1
    ws = tr.workspaces((await tr.workspaces.create_async(friendly_name="Stats")).sid)
    queue = await ws.task_queues.create_async(friendly_name="Q")
    workflow = await ws.workflows.create_async(friendly_name="W", configuration=json.dumps(
        {"task_routing": {"default_filter": {"queue": queue.sid}}}))
    await ws.workers.create_async(friendly_name="bob")
    await ws.tasks.create_async(attributes="{}", workflow_sid=workflow.sid, priority=2)
    realtime = await ws.real_time_statistics().fetch_async()
    assert realtime.total_tasks == 1 and realtime.tasks_by_status["pending"] == 1 and realtime.total_workers == 1
    assert realtime.tasks_by_priority == {"2": 1} and realtime.longest_task_waiting_sid
    cumulative = await ws.cumulative_statistics().fetch_async()
    assert cumulative.tasks_created == 1 and cumulative.reservations_created == 0
    queue_stats = await ws.task_queues(queue.sid).real_time_statistics().fetch_async()
    assert queue_stats.total_tasks == 1 and queue_stats.total_eligible_workers == 1
    assert (await ws.task_queues(queue.sid).cumulative_statistics().fetch_async()).tasks_entered == 1
    assert (await ws.task_queues(queue.sid).statistics().fetch_async()).realtime["total_tasks"] == 1
    assert len(await ws.task_queues.statistics.list_async()) == 1
    assert (await ws.workers.real_time_statistics().fetch_async()).total_workers == 1
    assert (await ws.workers.cumulative_statistics().fetch_async()).reservations_created == 0
    assert (await ws.workflows(workflow.sid).real_time_statistics().fetch_async()).total_tasks == 1
    assert (await ws.workflows(workflow.sid).cumulative_statistics().fetch_async()).tasks_entered == 1
    assert (await ws.statistics().fetch_async()).realtime["total_tasks"] == 1


async def test_invalid_expressions_are_rejected_at_write_time_with_their_position(router: Router) -> None:
    tr = router.client.taskrouter.v1
    ws_sid = (await tr.workspaces.create_async(friendly_name="Errors")).sid
    async with router.parley.client() as http:
        bad_queue = await http.post(f"{ROOT}/{ws_sid}/TaskQueues", data={"FriendlyName": "Q", "TargetWorkers": "skills HAS"})
        assert bad_queue.status_code == 400 and bad_queue.json()["code"] == 20001
        assert "position 10" in bad_queue.json()["message"]
        queue = (await http.post(f"{ROOT}/{ws_sid}/TaskQueues", data={"FriendlyName": "Q"})).json()
        config = {"task_routing": {"filters": [{"expression": "lang == 'en' AND", "targets": [{"queue": queue["sid"]}]}]}}
        bad_flow = await http.post(f"{ROOT}/{ws_sid}/Workflows", data={"FriendlyName": "W",
                                                                       "Configuration": json.dumps(config)})
        assert bad_flow.status_code == 400 and "task_routing.filters[0].expression" in bad_flow.json()["message"]
        assert "position" in bad_flow.json()["message"]
        unknown_queue = {"task_routing": {"default_filter": {"queue": "WQ" + "0" * 32}}}
        refused = await http.post(f"{ROOT}/{ws_sid}/Workflows", data={"FriendlyName": "W",
                                                                      "Configuration": json.dumps(unknown_queue)})
        assert refused.status_code == 400
        broken = await http.post(f"{ROOT}/{ws_sid}/Workflows", data={"FriendlyName": "W", "Configuration": "{"})
        assert broken.status_code == 400
        missing = await http.post(f"{ROOT}", data={})
        assert missing.status_code == 400 and missing.json()["code"] == 20001
        assert len((await http.get(f"{ROOT}/{ws_sid}/Workflows")).json()["workflows"]) == 0


async def test_another_account_sees_nothing_of_a_workspace(router: Router) -> None:
    tr = router.client.taskrouter.v1
    workspace = await tr.workspaces.create_async(friendly_name="Private")
    async with router.parley.client() as http:
        other = (await http.post("/api/2010-04-01/Accounts.json", data={"FriendlyName": "other"})).json()
    async with httpx.AsyncClient(base_url=router.base_url, auth=(other["sid"], other["auth_token"])) as stranger:
        for path in (f"{ROOT}/{workspace.sid}", f"{ROOT}/{workspace.sid}/Workers", f"{ROOT}/{workspace.sid}/Tasks",
                     f"{ROOT}/{workspace.sid}/Statistics", f"{ROOT}/{workspace.sid}/Workers/Statistics"):
            response = await stranger.get(path)
            assert response.status_code == 404 and response.json()["code"] == 20404, path
        assert (await stranger.post(f"{ROOT}/{workspace.sid}", data={"FriendlyName": "mine"})).status_code == 404
        assert (await stranger.get(ROOT)).json()["workspaces"] == []
    stranger_client = twilio_client(router.parley, sid=other["sid"], token=other["auth_token"])
    assert await stranger_client.taskrouter.v1.workspaces.list_async() == []
    await stranger_client.http_client.close()  # type: ignore[attr-defined]
