"""Web Channels (`/flex-api/v1/WebChannels`): a web chat started through a web-type Flex Flow."""

import json
from typing import Any

import httpx

from tests.flex.conftest import ContactCenter
from tests.flex.test_flex_flows import SERVICE, a_flow, tasks_of
from tests.support.waiting import eventually

ROOT = "/flex-api/v1/WebChannels"
FLEX_FLOWS = "/flex-api/v1/FlexFlows"


async def web_flex_flow(center: ContactCenter, **integration: Any) -> dict[str, Any]:
    return await center.post(FLEX_FLOWS, {"FriendlyName": "Web chat", "ChatServiceSid": SERVICE,
                                          "ChannelType": "web", **integration}, status=201)


def task_integration(center: ContactCenter, **extra: str) -> dict[str, str]:
    return {"IntegrationType": "task", "Integration.WorkspaceSid": center.workspace_sid,
            "Integration.WorkflowSid": center.workflow_sid, "Integration.Channel": "chat", **extra}


def web_chat(flex_flow_sid: str, identity: str = "guest-1", **extra: str) -> dict[str, str]:
    return {"FlexFlowSid": flex_flow_sid, "Identity": identity, "CustomerFriendlyName": "Dana",
            "ChatFriendlyName": "Chat with Dana", **extra}


async def test_a_web_channel_of_a_task_flex_flow_routes_the_chat_to_an_agent(center: ContactCenter) -> None:
    flex_flow = await web_flex_flow(center, **task_integration(center))
    await center.make_available(center.alice)
    created = await center.post(ROOT, web_chat(flex_flow["sid"], ChatUniqueName="dana-chat",
                                               PreEngagementData=json.dumps({"question": "Refund?"})), status=201)
    assert created["sid"].startswith("CH") and created["flex_flow_sid"] == flex_flow["sid"]
    assert created["account_sid"] == center.parley.account.sid
    assert created["url"].endswith(f"{ROOT}/{created['sid']}")

    # The web channel is the conversation: named, with the customer as a chat participant.
    conversation = await center.conversation(created["sid"])
    assert conversation["friendly_name"] == "Chat with Dana" and conversation["unique_name"] == "dana-chat"
    assert json.loads(conversation["attributes"])["pre_engagement_data"] == {"question": "Refund?"}
    assert await center.identities(created["sid"]) == {"guest-1"}

    # The task exists at once (task integration), reserved for the skilled agent; accept puts her in the chat.
    (task,) = await tasks_of(center)
    attributes = json.loads(task["attributes"])
    assert attributes["conversationSid"] == created["sid"] and attributes["channelType"] == "web"
    assert attributes["flexFlowSid"] == flex_flow["sid"] and attributes["customerAddress"] == "guest-1"
    await center.accept(task["sid"])
    await center.wait_identities(created["sid"], {"guest-1", "alice"})

    assert await center.get(f"{ROOT}/{created['sid']}") == created
    second = await center.post(ROOT, web_chat(flex_flow["sid"], identity="guest-2"), status=201)
    page = await center.get(ROOT, PageSize=1)
    assert page["meta"]["key"] == "flex_chat_channels"
    assert [c["sid"] for c in page["flex_chat_channels"]] == [created["sid"]]
    following = (await center.http.get(page["meta"]["next_page_url"])).json()
    assert [c["sid"] for c in following["flex_chat_channels"]] == [second["sid"]]

    # ChatStatus=inactive ends the chat: the agent's task completes and the conversation closes; her capacity is
    # back, so the second chat's waiting task is offered to her now.
    (waiting,) = [t for t in await tasks_of(center) if t["sid"] != task["sid"]]
    assert waiting["assignment_status"] == "pending"
    await center.post(f"{ROOT}/{created['sid']}", {"ChatStatus": "inactive", "PostEngagementData": "{\"csat\": 5}"})
    assert (await center.task(task["sid"]))["assignment_status"] == "completed"
    await eventually(lambda: center.conversation(created["sid"]), until=lambda c: c["state"] == "closed",
                     what="the chat closed")
    assert (await center.pending_reservation(waiting["sid"]))["worker_sid"] == center.alice.sid

    # Delete: the second chat's reserved task is canceled, the conversation closed, the agent free again.
    assert (await center.http.delete(f"{ROOT}/{second['sid']}")).status_code == 204
    assert (await center.task(waiting["sid"]))["assignment_status"] == "canceled"
    await eventually(lambda: center.conversation(second["sid"]), until=lambda c: c["state"] == "closed",
                     what="the deleted chat closed")
    channels = (await center.get(f"{center.ws}/Workers/{center.alice.sid}/Channels"))["channels"]
    assert next(c for c in channels if c["task_channel_unique_name"] == "chat")["assigned_tasks"] == 0
    missing = await center.http.get(f"{ROOT}/{second['sid']}")
    assert missing.status_code == 404 and missing.json()["code"] == 20404


async def test_a_web_channel_of_a_studio_flex_flow_runs_the_flow_on_the_first_message(center: ContactCenter) -> None:
    flow = await a_flow(center)
    flex_flow = await web_flex_flow(center, IntegrationType="studio", **{"Integration.FlowSid": flow["sid"]})
    await center.make_available(center.alice)
    chat = await center.post(ROOT, web_chat(flex_flow["sid"]), status=201)
    assert await tasks_of(center) == []  # nothing runs before the customer writes

    messages = f"/conversations/v1/Conversations/{chat['sid']}/Messages"
    await center.post(messages, {"Author": "guest-1", "Body": "My invoice is wrong"}, status=201)
    found = await eventually(lambda: center.get(messages), until=lambda m: len(m["messages"]) == 2,
                             what="the flow's greeting")
    assert [(m["author"], m["body"]) for m in found["messages"]] == [
        ("guest-1", "My invoice is wrong"), ("system", "Hello guest-1!")]
    (task,) = await eventually(lambda: tasks_of(center), what="Send to Flex's task")
    attributes = json.loads(task["attributes"])
    assert attributes["team"] == "billing" and attributes["channelType"] == "web"
    assert attributes["conversationSid"] == chat["sid"]


async def test_creation_on_message_waits_for_the_customer(center: ContactCenter) -> None:
    flex_flow = await web_flex_flow(center, **task_integration(center, **{"Integration.CreationOnMessage": "true"}))
    chat = await center.post(ROOT, web_chat(flex_flow["sid"]), status=201)
    assert await tasks_of(center) == []
    await center.post(f"/conversations/v1/Conversations/{chat['sid']}/Messages",
                      {"Author": "guest-1", "Body": "Hi"}, status=201)
    (task,) = await eventually(lambda: tasks_of(center), what="the task on the first message")
    assert json.loads(task["attributes"])["conversationSid"] == chat["sid"]


async def test_web_channel_errors_change_nothing(center: ContactCenter) -> None:
    sms = await center.post(FLEX_FLOWS, {"FriendlyName": "SMS", "ChatServiceSid": SERVICE, "ChannelType": "sms",
                                         "ContactIdentity": "+15550009999", **task_integration(center)}, status=201)
    web = await web_flex_flow(center, **task_integration(center))
    for form in (web_chat(sms["sid"]), web_chat("FO" + "0" * 32),
                 {k: v for k, v in web_chat(web["sid"]).items() if k != "Identity"},
                 {k: v for k, v in web_chat(web["sid"]).items() if k != "ChatFriendlyName"}):
        response = await center.http.post(ROOT, data=form)
        assert response.status_code == 400, (form, response.text)
        assert response.json()["code"] in (20001, 20002)
    bad = await center.http.post(f"{ROOT}/CH{'0' * 32}", data={"ChatStatus": "inactive"})
    assert bad.status_code == 404
    assert (await center.get(ROOT))["flex_chat_channels"] == []
    assert (await center.get("/conversations/v1/Conversations"))["conversations"] == []
    chat = await center.post(ROOT, web_chat(web["sid"]), status=201)
    wrong = await center.http.post(f"{ROOT}/{chat['sid']}", data={"ChatStatus": "active"})
    assert wrong.status_code == 400
    assert (await center.conversation(chat["sid"]))["state"] == "active"

    async with center.parley.client() as http:
        other = (await http.post("/api/2010-04-01/Accounts.json", data={"FriendlyName": "other"})).json()
    async with httpx.AsyncClient(base_url=center.parley.base_url, auth=(other["sid"], other["auth_token"])) as stranger:
        assert (await stranger.get(f"{ROOT}/{chat['sid']}")).status_code == 404
        assert (await stranger.post(ROOT, data=web_chat(web["sid"]))).status_code == 400
        assert (await stranger.get(ROOT)).json()["flex_chat_channels"] == []
