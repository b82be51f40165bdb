"""Account-authenticated calls on one TaskRouter workspace, as the tests' contact centers make them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx


async def create(client: httpx.AsyncClient, path: str, data: dict[str, Any]) -> dict[str, Any]:
    """POST a new resource; it must answer 201."""
    response = await client.post(path, data=data)
    assert response.status_code == 201, response.text
    return dict(response.json())


class WorkspaceCalls:
    """Mixed into a test's contact center (a dataclass with these two fields): JSON answers, statuses asserted."""

    http: httpx.AsyncClient
    workspace_sid: str

    @property
    def ws(self) -> str:
        return f"/taskrouter/v1/Workspaces/{self.workspace_sid}"

    async def post(self, path: str, data: dict[str, Any] | None = None, status: int = 200) -> dict[str, Any]:
        response = await self.http.post(path, data=data or {})
        assert response.status_code == status, response.text
        return dict(response.json())

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = await self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def task(self, task_sid: str) -> dict[str, Any]:
        return await self.get(f"{self.ws}/Tasks/{task_sid}")


@dataclass(frozen=True)
class SupportWorkspace:
    """A workspace whose one queue ("Support") takes every task, and two skilled workers, Alice and Bob."""

    workspace_sid: str
    workflow_sid: str
    queue_sid: str
    activities: dict[str, str]  # friendly name → SID
    workers: dict[str, str]  # "alice" / "bob" (or the agents asked for) → worker SID


async def set_up_support_workspace(http: httpx.AsyncClient, *, name: str, workflow: dict[str, str] | None = None,
                                   agents: Sequence[str] = ("alice", "bob")) -> SupportWorkspace:
    """`workflow`: more of the workflow's fields (e.g. TaskReservationTimeout); `agents`: the workers' names."""
    workspace = await create(http, "/taskrouter/v1/Workspaces", {"FriendlyName": name})
    ws = f"/taskrouter/v1/Workspaces/{workspace['sid']}"
    activities = {a["friendly_name"]: a["sid"] for a in (await http.get(f"{ws}/Activities")).json()["activities"]}
    queue = await create(http, f"{ws}/TaskQueues", {"FriendlyName": "Support", "TargetWorkers": "skills HAS 'support'"})
    routing = await create(http, f"{ws}/Workflows", {"FriendlyName": "Inbound", **(workflow or {}), "Configuration": json.dumps(
        {"task_routing": {"filters": [], "default_filter": {"queue": queue["sid"]}}})})
    workers = {}
    for agent in agents:
        worker = await create(http, f"{ws}/Workers", {"FriendlyName": agent.title(), "Attributes": json.dumps(
            {"contact_uri": f"client:{agent}", "skills": ["support"]})})
        workers[agent] = worker["sid"]
    return SupportWorkspace(workspace_sid=workspace["sid"], workflow_sid=routing["sid"], queue_sid=queue["sid"],
                            activities=activities, workers=workers)
