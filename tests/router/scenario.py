"""A small world for routing scenarios: a workspace, its activities, and helpers to wait on outcomes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.router.conftest import Router
from tests.support.waiting import eventually


@dataclass
class World:
    router: Router
    workspace_sid: str
    activities: dict[str, str]

    @property
    def ws(self) -> Any:
        return self.router.client.taskrouter.v1.workspaces(self.workspace_sid)

    async def queue(self, name: str, target_workers: str = "1==1", **extra: Any) -> str:
        return str((await self.ws.task_queues.create_async(friendly_name=name, target_workers=target_workers,
                                                           **extra)).sid)

    async def workflow(self, routing: dict[str, Any], *, reservation_timeout: int = 120) -> str:
        created = await self.ws.workflows.create_async(
            friendly_name="flow", configuration=json.dumps({"task_routing": routing}),
            task_reservation_timeout=reservation_timeout)
        return str(created.sid)

    async def worker(self, name: str, attributes: dict[str, Any] | None = None, *, available: bool = True,
                     capacity: dict[str, int] | None = None) -> str:
        worker = await self.ws.workers.create_async(friendly_name=name, attributes=json.dumps(attributes or {}))
        for channel, value in (capacity or {}).items():
            await self.ws.workers(worker.sid).worker_channels(channel).update_async(capacity=value)
        if available:
            await self.set_activity(worker.sid, "Available")
        return str(worker.sid)

    async def set_activity(self, worker_sid: str, activity: str) -> None:
        await self.ws.workers(worker_sid).update_async(activity_sid=self.activities[activity])

    async def task(self, workflow_sid: str, attributes: dict[str, Any] | None = None, **extra: Any) -> str:
        created = await self.ws.tasks.create_async(workflow_sid=workflow_sid, attributes=json.dumps(attributes or {}),
                                                   **extra)
        return str(created.sid)

    async def fetch_task(self, sid: str) -> Any:
        return await self.ws.tasks(sid).fetch_async()

    async def reservations(self, task_sid: str, status: str | None = None) -> list[Any]:
        found = await self.ws.tasks(task_sid).reservations.list_async()
        return [r for r in found if status is None or r.reservation_status == status]

    async def pending_reservation(self, task_sid: str, timeout: float = 15.0) -> Any:
        found = await eventually(lambda: self.reservations(task_sid, "pending"), timeout=timeout,
                                 what=f"a pending reservation for {task_sid}")
        return found[0]

    async def task_status(self, sid: str, status: str, timeout: float = 15.0) -> Any:
        async def probe() -> Any:
            return await self.fetch_task(sid)
        return await eventually(probe, until=lambda t: t.assignment_status == status, timeout=timeout,
                                what=f"task {sid} {status}")

    async def event_types(self, task_sid: str) -> list[str]:
        return [event.event_type for event in await self.ws.events.list_async(task_sid=task_sid)]


async def new_world(router: Router, name: str = "World", **options: Any) -> World:
    tr = router.client.taskrouter.v1
    workspace = await tr.workspaces.create_async(friendly_name=name, **options)
    activities = {a.friendly_name: a.sid for a in await tr.workspaces(workspace.sid).activities.list_async()}
    return World(router=router, workspace_sid=workspace.sid, activities=activities)
