"""Flex fixtures: all of Parley, a workspace with one skilled agent, a fake carrier for SMS in and out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.parley import RunningParley
from tests.support.provider import Provider, carrier_answer, inbound_form, post_inbound
from tests.support.receiver import Receiver
from tests.support.waiting import eventually
from tests.support.workspace_client import WorkspaceCalls, create, set_up_support_workspace

PARLEY_NUMBER = "+15550001111"
CUSTOMER = "+15557654321"
CARRIER_TOKEN = "carrier-secret-0001"


@dataclass
class Agent:
    sid: str
    identity: str


@dataclass
class ContactCenter(WorkspaceCalls):
    parley: RunningParley
    http: httpx.AsyncClient
    carrier: Receiver
    provider: Provider
    workspace_sid: str
    workflow_sid: str
    queue_sid: str
    available_sid: str
    alice: Agent
    bob: Agent

    async def make_available(self, agent: Agent) -> None:
        await self.post(f"{self.ws}/Workers/{agent.sid}", {"ActivitySid": self.available_sid})

    async def conversation_with_customer(self, customer: str = CUSTOMER) -> str:
        conversation = await self.post("/conversations/v1/Conversations", {"FriendlyName": "customer"}, status=201)
        await self.post(f"/conversations/v1/Conversations/{conversation['sid']}/Participants", {
            "MessagingBinding.Address": customer, "MessagingBinding.ProxyAddress": PARLEY_NUMBER}, status=201)
        return str(conversation["sid"])

    async def customer_writes(self, body: str, customer: str = CUSTOMER) -> None:
        response = await post_inbound(self.provider, inbound_form(from_address=customer, to_address=PARLEY_NUMBER,
                                                                  body=body))
        assert response.status_code == 200, response.text

    async def inbound_interaction(self, conversation_sid: str, **routing: Any) -> dict[str, Any]:
        return await self.post("/flex-api/v1/Interactions", {
            "Channel": json.dumps({"type": "sms", "initiated_by": "customer",
                                   "properties": {"media_channel_sid": conversation_sid}}),
            "Routing": json.dumps({"properties": {"workspace_sid": self.workspace_sid,
                                                  "workflow_sid": self.workflow_sid,
                                                  "task_channel_unique_name": "chat",
                                                  "attributes": {"from": "Customer", **routing}}}),
        })

    async def pending_reservation(self, task_sid: str, worker: Agent | None = None) -> dict[str, Any]:
        async def pending() -> list[dict[str, Any]]:
            found = await self.get(f"{self.ws}/Tasks/{task_sid}/Reservations", ReservationStatus="pending")
            return [r for r in found["reservations"] if worker is None or r["worker_sid"] == worker.sid]

        return (await eventually(pending, what=f"a pending reservation of {task_sid}"))[0]

    async def accept(self, task_sid: str, worker: Agent | None = None) -> dict[str, Any]:
        reservation = await self.pending_reservation(task_sid, worker)
        return await self.post(f"{self.ws}/Tasks/{task_sid}/Reservations/{reservation['sid']}",
                               {"ReservationStatus": "accepted"})

    async def identities(self, conversation_sid: str) -> set[str]:
        found = await self.get(f"/conversations/v1/Conversations/{conversation_sid}/Participants")
        return {p["identity"] for p in found["participants"] if p["identity"]}

    async def wait_identities(self, conversation_sid: str, wanted: set[str]) -> None:
        await eventually(lambda: self.identities(conversation_sid), until=lambda found: found == wanted,
                         what=f"participants {wanted}")

    async def conversation(self, conversation_sid: str) -> dict[str, Any]:
        return await self.get(f"/conversations/v1/Conversations/{conversation_sid}")


@pytest.fixture
async def carrier() -> AsyncIterator[Receiver]:
    fake = Receiver(responder=carrier_answer)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def center(parley: RunningParley, carrier: Receiver) -> AsyncIterator[ContactCenter]:
    async with parley.client() as http:
        created = await create(http, "/parley/v1/Providers", {
            "Type": "twilio", "FriendlyName": "Fake carrier", "Addresses": [PARLEY_NUMBER],
            "ApiBaseUrl": carrier.url, "Credentials.AccountSid": "AC" + "1" * 32,
            "Credentials.AuthToken": CARRIER_TOKEN})
        provider = Provider(sid=created["sid"], auth_token=CARRIER_TOKEN, inbound_url=created["inbound_url"],
                            status_callback_url=created["status_callback_url"])
        support = await set_up_support_workspace(http, name="Flex")
        agents = [Agent(sid=support.workers[name], identity=name) for name in ("alice", "bob")]
        yield ContactCenter(parley=parley, http=http, carrier=carrier, provider=provider,
                            workspace_sid=support.workspace_sid, workflow_sid=support.workflow_sid,
                            queue_sid=support.queue_sid, available_sid=support.activities["Available"],
                            alice=agents[0], bob=agents[1])
