"""What an access token's holder may do on the TaskRouter and Flex Interactions APIs.

Pure rules over the route asked (method and path template), its path parameters and form, and the
token's task_router grant (workspace W, worker K, role). Anything not allowed here is refused:
- every holder of W: read W, its Activities, TaskQueues and TaskChannels, and a Workflow by SID (its
  reservation timeout times an offer); list W's workers as a roster (names, activity and availability
  only: whom to transfer to or invite), never filtered by attributes; read K and anything under it;
  set K's activity; move K's reservations to accepted/rejected/wrapping/completed; read a task K holds
  a reservation for, or a task of an interaction channel where K holds one (whether the other agents
  there are still in decides what K's wrap-up does), and move a task assigned to K to wrapping/completed;
- role supervisor or admin besides: read every worker, task and statistic of W, and K's attributes;
- Flex Interactions: read an interaction whose task K holds; on its channel, set K's own participant to
  wrapup/closed, create invites and transfers, close the channel (without Routing: its tasks wrap up);
  create an agent-initiated interaction routed to K.
Some rules depend on stored facts (whose is this reservation?): the decision names that `Requirement`,
and the caller checks it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

TASKROUTER_ROOT = "/taskrouter/v1/Workspaces/{workspace_sid}"
INTERACTIONS_ROOT = "/flex-api/v1/Interactions"
SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})
RESERVATION_MOVES = frozenset({"accepted", "rejected", "wrapping", "completed"})
TASK_MOVES = frozenset({"wrapping", "completed"})
CHANNEL_PARTICIPANT_MOVES = frozenset({"wrapup", "closed"})
_READABLE_BY_ALL = ("Activities", "TaskQueues", "TaskChannels")
_READABLE_BY_SUPERVISORS = ("Workers", "Tasks", "TaskQueues", "Activities", "TaskChannels", "Statistics",
                            "RealTimeStatistics", "CumulativeStatistics")


@dataclass(frozen=True)
class Grant:
    workspace_sid: str | None
    worker_sid: str | None
    role: str | None

    @property
    def supervises(self) -> bool:
        return self.role in SUPERVISOR_ROLES


@dataclass(frozen=True)
class Requirement:
    """A stored fact the decision depends on, about the grant's worker."""

    kind: str  # task_readable | task_assigned | reservation_of_worker | interaction_task_held | own_channel_participant
    sid: str
    parent_sid: str | None = None  # the task, channel or interaction the sid belongs to


@dataclass(frozen=True)
class Decision:
    allowed: bool
    requirement: Requirement | None = None
    reason: str = ""
    roster: bool = False  # the answer may show colleagues' names and availability only


def allow(requirement: Requirement | None = None) -> Decision:
    return Decision(True, requirement)


def refuse(reason: str) -> Decision:
    return Decision(False, reason=reason)


@dataclass(frozen=True)
class Asked:
    method: str
    template: str  # the route's path template, e.g. /taskrouter/v1/Workspaces/{workspace_sid}/Workers/{sid}
    params: Mapping[str, str]
    form: Mapping[str, str]  # the last value of each form field


def _only(form: Mapping[str, str], allowed: set[str]) -> bool:
    return set(form) <= allowed


def decide(grant: Grant, asked: Asked) -> Decision:
    if asked.template.startswith(TASKROUTER_ROOT):
        return _taskrouter(grant, asked, asked.template[len(TASKROUTER_ROOT):].strip("/").split("/"))
    if asked.template.startswith(INTERACTIONS_ROOT + "/"):
        return _interactions(grant, asked, asked.template[len(INTERACTIONS_ROOT):].strip("/").split("/"))
    if asked.template == INTERACTIONS_ROOT and asked.method == "POST":
        return _agent_initiated(grant, asked)
    return refuse("this resource requires account credentials")


def _agent_initiated(grant: Grant, asked: Asked) -> Decision:
    """An agent starts an outbound SMS/WhatsApp conversation for itself (Flex's agent-initiated outbound)."""
    try:
        channel = json.loads(asked.form.get("Channel") or "{}")
        routing = json.loads(asked.form.get("Routing") or "{}")
    except ValueError:
        channel, routing = {}, {}
    properties = routing.get("properties") if isinstance(routing, dict) else None
    if (isinstance(channel, dict) and isinstance(properties, dict)
            and channel.get("initiated_by") == "agent" and grant.worker_sid is not None
            and properties.get("worker_sid") == grant.worker_sid
            and properties.get("workspace_sid") == grant.workspace_sid):
        return allow()
    return refuse("an agent may only start agent-initiated interactions routed to its own worker")


def _taskrouter(grant: Grant, asked: Asked, path: list[str]) -> Decision:
    if grant.workspace_sid is None or asked.params.get("workspace_sid") != grant.workspace_sid:
        return refuse("the token's task_router grant does not name this workspace")
    reading = asked.method == "GET"
    own_worker = grant.worker_sid is not None and asked.params.get("sid") == grant.worker_sid
    head = path[0]
    if reading and head in ("", *_READABLE_BY_ALL):
        return allow()
    # (POST …/TaskQueues/RealTimeStatistics is a read with a body)
    if grant.supervises and (reading or path[-1] == "RealTimeStatistics") and head in _READABLE_BY_SUPERVISORS:
        return allow()
    if reading and path == ["Workers"]:
        return _roster(asked)
    if reading and head == "Workflows" and len(path) == 2:  # no more than its TaskQueues already show
        return allow()
    if head == "Workers" and own_worker:
        return _own_worker(grant, asked, path)
    if head == "Tasks" and grant.worker_sid is not None and len(path) >= 2:
        return _held_task(grant, asked, path)
    return refuse("the token's role does not permit this action")


def _roster(asked: Asked) -> Decision:
    """/Workers, listed by an agent: whom it may transfer to or invite. An expression would probe attributes."""
    if "TargetWorkersExpression" in asked.form:
        return refuse("an agent may not filter its colleagues by their attributes")
    return Decision(True, roster=True)


def _own_worker(grant: Grant, asked: Asked, path: list[str]) -> Decision:
    """/Workers/{K}…"""
    if asked.method == "GET":
        return allow()
    if asked.method != "POST":
        return refuse("the token's role does not permit this action")
    if len(path) == 2:  # update K
        fields = {"ActivitySid", "RejectPendingReservations"} | ({"Attributes"} if grant.supervises else set())
        return allow() if _only(asked.form, fields) else refuse(f"a worker may change only {', '.join(sorted(fields))}")
    if len(path) == 4 and path[2] == "Reservations":
        return _reservation_move(asked, None)
    return refuse("the token's role does not permit this action")


def _reservation_move(asked: Asked, requirement: Requirement | None) -> Decision:
    status = asked.form.get("ReservationStatus")
    if status not in RESERVATION_MOVES or not _only(asked.form, {"ReservationStatus", "WorkerActivitySid"}):
        return refuse(f"a worker may only set ReservationStatus to {', '.join(sorted(RESERVATION_MOVES))}")
    return allow(requirement)


def _held_task(grant: Grant, asked: Asked, path: list[str]) -> Decision:
    """/Tasks/{sid}… of a task reserved for or assigned to K."""
    task_sid = asked.params.get("sid", "")
    if asked.method not in ("GET", "POST"):
        return refuse("the token's role does not permit this action")
    if len(path) == 2:
        if asked.method == "GET":
            return allow(Requirement("task_readable", task_sid))
        status = asked.form.get("AssignmentStatus")
        if status in TASK_MOVES and _only(asked.form, {"AssignmentStatus", "Reason"}):
            return allow(Requirement("task_assigned", task_sid))
        return refuse(f"a worker may only set AssignmentStatus to {', '.join(sorted(TASK_MOVES))}")
    if len(path) == 4 and path[2] == "Reservations":
        mine = Requirement("reservation_of_worker", asked.params.get("reservation_sid", ""), parent_sid=task_sid)
        return allow(mine) if asked.method == "GET" else _reservation_move(asked, mine)
    return refuse("the token's role does not permit this action")


def _interactions(grant: Grant, asked: Asked, path: list[str]) -> Decision:
    """/flex-api/v1/Interactions/{interaction}/Channels/{channel}/…"""
    if grant.worker_sid is None:
        return refuse("the token's task_router grant names no worker")
    interaction_sid = asked.params.get("interaction_sid") or asked.params.get("sid", "")
    held = Requirement("interaction_task_held", interaction_sid)
    if asked.method == "GET":
        return allow(held)
    if asked.method != "POST":
        return refuse("the token's role does not permit this action")
    tail = path[2:]  # after {interaction}/Channels
    if tail == ["{sid}"] and asked.form.get("Status") == "closed" and _only(asked.form, {"Status"}):
        return allow(held)  # "End chat": the channel's tasks wrap up and the conversation closes
    if tail in (["{channel_sid}", "Invites"], ["{channel_sid}", "Transfers"]):
        return allow(held)
    if tail == ["{channel_sid}", "Participants", "{sid}"]:
        if asked.form.get("Status") in CHANNEL_PARTICIPANT_MOVES and _only(asked.form, {"Status"}):
            return allow(Requirement("own_channel_participant", asked.params.get("sid", ""),
                                     parent_sid=asked.params.get("channel_sid")))
        return refuse(f"an agent may only set its participant's Status to {', '.join(sorted(CHANNEL_PARTICIPANT_MOVES))}")
    return refuse("the token's role does not permit this action")
