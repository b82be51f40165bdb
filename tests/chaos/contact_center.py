"""The business the chaos suite runs on its cluster: one number behind a Twilio-format carrier (a fake on
127.0.0.1 taking outbound sends), a Flex Flow making every new customer's conversation a TaskRouter task,
agents with room for every task, and the account's webhooks (`onMessageAdded`) posted to the business's endpoint."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
from starlette.responses import Response

from tests.support.provider import Provider, create_twilio_provider
from tests.support.receiver import ReceivedRequest
from tests.support.workspace_client import create, set_up_support_workspace

NUMBER = "+15550009999"
AGENTS = tuple(f"agent{n}" for n in range(1, 7))
CHAT_CAPACITY = 50  # per agent: the router's maximum; six agents hold every conversation of a full run


@dataclass(frozen=True)
class ContactCenter:
    provider: Provider
    workspace_sid: str
    workflow_sid: str
    agents: dict[str, str]  # worker SID → identity

    @property
    def ws(self) -> str:
        return f"/taskrouter/v1/Workspaces/{self.workspace_sid}"


def expect(response: httpx.Response, status: int = 200) -> dict[str, object]:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return dict(response.json())


async def set_up_contact_center(http: httpx.AsyncClient, *, webhook_url: str, carrier_url: str) -> ContactCenter:
    provider = await create_twilio_provider(http, NUMBER, api_base_url=carrier_url)
    expect(await http.post("/conversations/v1/Configuration/Webhooks", data={
        "Target": "webhook", "Method": "POST", "PostWebhookUrl": webhook_url, "Filters": ["onMessageAdded"]}))
    support = await set_up_support_workspace(http, name="Chaos", agents=AGENTS)
    ws = f"/taskrouter/v1/Workspaces/{support.workspace_sid}"
    for worker_sid in support.workers.values():
        expect(await http.post(f"{ws}/Workers/{worker_sid}/Channels/chat", data={"Capacity": str(CHAT_CAPACITY)}))
        expect(await http.post(f"{ws}/Workers/{worker_sid}",
                                     data={"ActivitySid": support.activities["Available"]}))
    chat_service = (expect(await http.get("/conversations/v1/Configuration")))["default_chat_service_sid"]
    await create(http, "/flex-api/v1/FlexFlows", {
        "FriendlyName": "Every customer to an agent", "ChatServiceSid": chat_service, "ChannelType": "sms",
        "ContactIdentity": NUMBER, "IntegrationType": "task", "Integration.WorkspaceSid": support.workspace_sid,
        "Integration.WorkflowSid": support.workflow_sid, "Integration.Channel": "chat"})
    return ContactCenter(provider=provider, workspace_sid=support.workspace_sid, workflow_sid=support.workflow_sid,
                         agents={sid: name for name, sid in support.workers.items()})


@dataclass
class EndpointTrouble:
    """The business's webhook endpoint's state, as a Receiver's responder: well, answering 503, or taking every
    request and holding it (then answering 200, when the business has long processed it and Parley given up)."""

    failing_until: float = 0.0
    hanging_until: float = 0.0

    async def respond(self, _: ReceivedRequest) -> Response | None:
        if time.time() < self.failing_until:
            return Response(status_code=503)
        if (hang := self.hanging_until - time.time()) > 0:
            await asyncio.sleep(hang)
        return None
