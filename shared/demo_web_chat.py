"""A contact center that web chats reach: what a business sets up so its widget's chats go to an agent.

A TaskRouter workspace with a queue and a workflow, agents (sign-in with the account's SID, an email and a
password, each with a worker), a flow that sends the chat to Flex, and a `chat` address configuration of AutoCreation.Type studio
running that flow: the guest's first message creates the interaction, whose task waits in the queue.
Made through the public REST API only, so `parley demo-web-chat` sets up a running Parley for the demo
page and the browser tests use the same set-up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"  # the demo agents' (for a demo only)


@dataclass
class Agent:
    identity: str
    email: str
    worker_sid: str
    agent_sid: str
    account_sid: str  # agents sign in naming their account: emails are unique per account only
    password: str = PASSWORD


@dataclass
class WebChatCenter:
    workspace_sid: str
    workflow_sid: str
    queue_sid: str
    flow_sid: str
    address_sid: str
    activities: dict[str, str]
    agents: dict[str, Agent] = field(default_factory=dict)

    @property
    def ws(self) -> str:
        return f"/taskrouter/v1/Workspaces/{self.workspace_sid}"


async def _created(client: httpx.AsyncClient, path: str, data: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, data=data)
    assert response.status_code == 201, f"POST {path}: {response.status_code} {response.text}"
    return dict(response.json())


def send_to_flex_flow(workflow_sid: str) -> dict[str, Any]:
    return {"initial_state": "Trigger", "states": [
        {"name": "Trigger", "type": "trigger", "properties": {},
         "transitions": [{"event": "incomingMessage", "next": "Flex"}]},
        {"name": "Flex", "type": "send-to-flex", "properties": {
            "workflow": workflow_sid, "channel": "chat",
            "attributes": json.dumps({"conversation": "{{trigger.conversation.ConversationSid}}"})},
         "transitions": []},
    ]}


async def set_up_web_chat_center(client: httpx.AsyncClient, *, agents: tuple[str, ...] = ("alice",),
                                 supervisors: tuple[str, ...] = ()) -> WebChatCenter:
    """`client` is authenticated with the account's credentials. Agents start Offline."""
    workspace = await _created(client, "/taskrouter/v1/Workspaces", {"FriendlyName": "Web chat"})
    ws = f"/taskrouter/v1/Workspaces/{workspace['sid']}"
    listed = (await client.get(f"{ws}/Activities")).json()["activities"]
    activities = {activity["friendly_name"]: activity["sid"] for activity in listed}
    queue = await _created(client, f"{ws}/TaskQueues", {"FriendlyName": "Support",
                                                        "TargetWorkers": "skills HAS 'support'"})
    workflow = await _created(client, f"{ws}/Workflows", {"FriendlyName": "Web chat", "Configuration": json.dumps(
        {"task_routing": {"filters": [], "default_filter": {"queue": queue["sid"]}}})})
    flow = await _created(client, "/parley/v1/Flows", {"FriendlyName": "Web chat to an agent",
                                                      "Definition": json.dumps(send_to_flex_flow(workflow["sid"]))})
    address = await _created(client, "/conversations/v1/Configuration/Addresses", {
        "Type": "chat", "Address": "website-chat", "FriendlyName": "Website chat", "AutoCreation.Enabled": "true",
        "AutoCreation.Type": "studio", "AutoCreation.StudioFlowSid": flow["sid"]})
    center = WebChatCenter(workspace_sid=workspace["sid"], workflow_sid=workflow["sid"], queue_sid=queue["sid"],
                           flow_sid=flow["sid"], address_sid=address["sid"], activities=activities)
    for name in agents + supervisors:
        worker = await _created(client, f"{ws}/Workers", {"FriendlyName": name.title(), "Attributes": json.dumps(
            {"contact_uri": f"client:{name}", "skills": ["support"], "full_name": name.title()})})
        email = f"{name}@example.com"
        agent = await _created(client, "/parley/v1/Agents", {
            "Identity": name, "FriendlyName": name.title(), "Email": email, "Password": PASSWORD,
            "WorkspaceSid": workspace["sid"], "WorkerSid": worker["sid"],
            "Roles": "supervisor" if name in supervisors else "agent"})
        center.agents[name] = Agent(identity=name, email=email, worker_sid=worker["sid"], agent_sid=agent["sid"],
                                    account_sid=agent["account_sid"])
    return center


async def set_activity(client: httpx.AsyncClient, center: WebChatCenter, name: str, activity: str) -> None:
    response = await client.post(f"{center.ws}/Workers/{center.agents[name].worker_sid}",
                                 data={"ActivitySid": center.activities[activity]})
    assert response.status_code == 200, response.text


async def set_up_demo(base_url: str, account_sid: str, auth_token: str) -> str:
    """`parley demo-web-chat`: the contact center above on a running Parley; returns what to open, and how."""
    async with httpx.AsyncClient(base_url=base_url.rstrip("/"), auth=(account_sid, auth_token), timeout=30) as client:
        center = await set_up_web_chat_center(client, agents=("alice", "bob"), supervisors=("sam",))
        for name in ("alice", "bob"):
            await set_activity(client, center, name, "Available")
    signs_in = ", ".join(f"{agent.email}" for agent in center.agents.values())
    # The links name the account, so the sign-in pages ask only for email and password.
    return (f"Customer: {base_url}/webchat/?address={center.address_sid}\n"
            f"Agents:   {base_url}/desk/?account={account_sid} and supervisor: "
            f"{base_url}/supervisor/?account={account_sid}\n"
            f"          sign in as {signs_in} with the password '{PASSWORD}'")
