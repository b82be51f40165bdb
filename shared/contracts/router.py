"""Events the router publishes on parley.events: one per TaskRouter event (`task.created`, `reservation.accepted`…)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TaskRouterEvent(BaseModel):
    """The routing key is the TaskRouter event type; `resource` is the resource as the REST API renders it."""

    model_config = ConfigDict(extra="ignore")

    event_sid: str = Field(description="EV…, the same SID the Events API lists.")
    event_type: str
    workspace_sid: str
    resource_type: str = Field(description="task, reservation, worker, activity, workflow, workspace, task_queue…")
    resource_sid: str
    description: str
    resource: dict[str, Any] | None = None
    event_data: dict[str, str] = Field(default_factory=dict, description="Twilio's event parameters, snake_case.")


ASSIGNMENT_CALLBACK = "router.assignment.callback"


class AssignmentCallback(BaseModel):
    """Ask a workflow's AssignmentCallbackUrl about a new reservation and act on the instruction it answers."""

    model_config = ConfigDict(extra="ignore")

    workspace_sid: str
    reservation_sid: str
    url: str
    fallback_url: str | None = None
    params: list[tuple[str, str]] = Field(description="TaskRouter's assignment callback fields.")
