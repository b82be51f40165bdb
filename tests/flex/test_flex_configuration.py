"""The Flex Configuration (`/flex-api/v1/Configuration`): TaskRouter defaults, updates, and routing by it."""

import json

import httpx

from tests.flex.conftest import ContactCenter

ROOT = "/flex-api/v1/Configuration"


async def test_configuration_defaults_to_the_first_workspace_and_is_updated_by_json(center: ContactCenter) -> None:
    found = await center.get(ROOT)
    assert found["account_sid"] == center.parley.account.sid and found["status"] == "ok"
    assert found["taskrouter_workspace_sid"] == center.workspace_sid
    assert found["taskrouter_target_workflow_sid"] == center.workflow_sid
    assert found["taskrouter_target_taskqueue_sid"] == center.queue_sid
    assert found["taskrouter_taskqueues"] == [{"sid": center.queue_sid, "targettable": True}]
    assert found["taskrouter_offline_activity_sid"].startswith("WA")
    assert found["url"].endswith(ROOT) and found["ui_language"] == "en"

    second = await center.post(f"{center.ws}/Workflows", {"FriendlyName": "Second", "Configuration": json.dumps(
        {"task_routing": {"filters": [], "default_filter": {"queue": center.queue_sid}}})}, status=201)
    response = await center.http.post(ROOT, json={
        "taskrouter_target_workflow_sid": second["sid"], "ui_attributes": {"theme": "dark"},
        "taskrouter_skills": [{"name": "support", "multivalue": False, "minimum": 0, "maximum": 0}]})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["taskrouter_target_workflow_sid"] == second["sid"]
    assert updated["ui_attributes"] == {"theme": "dark"} and updated["taskrouter_skills"][0]["name"] == "support"
    assert await center.get(ROOT) == updated

    for body, fault in (({"account_sid": "AC" + "0" * 32}, "account_sid"), ({"favourite_colour": "red"}, "favourite"),
                        ({"taskrouter_workspace_sid": "nope"}, "WS"), ({"taskrouter_workspace_sid": "WS" + "0" * 32},
                                                                      "Workspace"), ([1, 2], "JSON object")):
        response = await center.http.post(ROOT, json=body)
        assert response.status_code == 400, body
        assert fault in response.json()["message"] and response.json()["code"] == 20001
    bad = await center.http.post(ROOT, content=b"{nope", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert await center.get(ROOT) == updated

    async with center.parley.client() as http:
        other = (await http.post("/api/2010-04-01/Accounts.json", data={"FriendlyName": "other"})).json()
    async with httpx.AsyncClient(base_url=center.parley.base_url, auth=(other["sid"], other["auth_token"])) as stranger:
        theirs = (await stranger.get(ROOT)).json()
        assert theirs["account_sid"] == other["sid"] and theirs["taskrouter_workspace_sid"] is None
        assert "ui_attributes" not in theirs or theirs["ui_attributes"] == {}


async def test_an_interaction_without_a_workspace_routes_through_the_configuration(center: ContactCenter) -> None:
    conversation_sid = await center.conversation_with_customer()
    created = await center.post("/flex-api/v1/Interactions", {
        "Channel": json.dumps({"type": "sms", "initiated_by": "customer",
                               "properties": {"media_channel_sid": conversation_sid}}),
        "Routing": json.dumps({"properties": {"task_channel_unique_name": "chat"}})})
    task = created["routing"]["properties"]
    assert task["workspace_sid"] == center.workspace_sid and task["workflow_sid"] == center.workflow_sid
    assert task["queue_sid"] == center.queue_sid
