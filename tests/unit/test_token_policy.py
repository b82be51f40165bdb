"""The TaskRouter / Flex Interactions access-token policy as rules (no I/O)."""

import pytest

from services.router.domain.token_policy import Asked, Decision, Grant, Requirement, decide

W, K, L = "WS1", "WK1", "WK2"
AGENT = Grant(workspace_sid=W, worker_sid=K, role=None)
TWILIO_WORKER = Grant(workspace_sid=W, worker_sid=K, role="worker")
SUPERVISOR = Grant(workspace_sid=W, worker_sid=K, role="supervisor")
ROOT = "/taskrouter/v1/Workspaces/{workspace_sid}"
FLEX = "/flex-api/v1/Interactions"


def ask(method: str, template: str, form: dict[str, str] | None = None, **params: str) -> Asked:
    return Asked(method=method, template=template, params={"workspace_sid": W, **params}, form=form or {})


def allowed(decision: Decision, requirement: Requirement | None = None) -> bool:
    return decision.allowed and decision.requirement == requirement


@pytest.mark.parametrize("grant", [AGENT, TWILIO_WORKER])
def test_an_agent_reads_its_workspace_lists_and_itself(grant: Grant) -> None:
    for template in (ROOT, f"{ROOT}/Activities", f"{ROOT}/Activities/{{sid}}", f"{ROOT}/TaskQueues",
                     f"{ROOT}/TaskChannels/{{sid}}", f"{ROOT}/Workflows/{{sid}}"):
        assert allowed(decide(grant, ask("GET", template, sid="X"))), template
    assert allowed(decide(grant, ask("GET", f"{ROOT}/Workers/{{sid}}", sid=K)))
    assert allowed(decide(grant, ask("GET", f"{ROOT}/Workers/{{sid}}/Reservations", sid=K)))
    for template in (f"{ROOT}/Tasks", f"{ROOT}/Statistics", f"{ROOT}/Workflows", f"{ROOT}/Events",
                     f"{ROOT}/Workers/Statistics"):
        assert not decide(grant, ask("GET", template)).allowed, template
    assert not decide(grant, ask("GET", f"{ROOT}/Workers/{{sid}}", sid=L)).allowed


def test_an_agent_lists_its_colleagues_as_a_roster_only() -> None:
    roster = decide(AGENT, ask("GET", f"{ROOT}/Workers"))
    assert roster.allowed and roster.roster and roster.requirement is None
    assert not decide(AGENT, ask("GET", f"{ROOT}/Workers", {"TargetWorkersExpression": "email == 'x'"})).allowed
    assert not decide(AGENT, ask("POST", f"{ROOT}/Workers", {"FriendlyName": "Eve"})).allowed
    assert not decide(SUPERVISOR, ask("GET", f"{ROOT}/Workers")).roster  # supervisors see the whole resource


def test_an_agent_sets_only_its_own_activity() -> None:
    update = f"{ROOT}/Workers/{{sid}}"
    assert allowed(decide(AGENT, ask("POST", update, {"ActivitySid": "WA1"}, sid=K)))
    assert not decide(AGENT, ask("POST", update, {"ActivitySid": "WA1"}, sid=L)).allowed
    assert not decide(AGENT, ask("POST", update, {"Attributes": "{}"}, sid=K)).allowed
    assert allowed(decide(SUPERVISOR, ask("POST", update, {"Attributes": "{}"}, sid=K)))
    assert not decide(SUPERVISOR, ask("POST", update, {"Attributes": "{}"}, sid=L)).allowed
    assert not decide(AGENT, ask("DELETE", update, sid=K)).allowed


def test_reservations_move_only_to_the_agents_statuses() -> None:
    mine = f"{ROOT}/Workers/{{sid}}/Reservations/{{reservation_sid}}"
    for status in ("accepted", "rejected", "wrapping", "completed"):
        assert allowed(decide(AGENT, ask("POST", mine, {"ReservationStatus": status}, sid=K, reservation_sid="WR1")))
    assert not decide(AGENT, ask("POST", mine, {"ReservationStatus": "canceled"}, sid=K, reservation_sid="WR1")).allowed
    assert not decide(AGENT, ask("POST", mine, {"Instruction": "dequeue"}, sid=K, reservation_sid="WR1")).allowed
    through_task = f"{ROOT}/Tasks/{{sid}}/Reservations/{{reservation_sid}}"
    decision = decide(AGENT, ask("POST", through_task, {"ReservationStatus": "accepted"}, sid="WT1",
                                 reservation_sid="WR1"))
    assert allowed(decision, Requirement("reservation_of_worker", "WR1", parent_sid="WT1"))


def test_tasks_need_the_worker_to_hold_them() -> None:
    task = f"{ROOT}/Tasks/{{sid}}"
    assert allowed(decide(AGENT, ask("GET", task, sid="WT1")), Requirement("task_readable", "WT1"))
    assert allowed(decide(AGENT, ask("POST", task, {"AssignmentStatus": "wrapping"}, sid="WT1")),
                   Requirement("task_assigned", "WT1"))
    assert not decide(AGENT, ask("POST", task, {"AssignmentStatus": "canceled"}, sid="WT1")).allowed
    assert not decide(AGENT, ask("POST", task, {"Priority": "9"}, sid="WT1")).allowed
    assert not decide(AGENT, ask("GET", f"{task}/Reservations", sid="WT1")).allowed
    assert allowed(decide(SUPERVISOR, ask("GET", task, sid="WT1")))  # supervisors read every task


def test_supervisors_read_workers_tasks_and_statistics_of_their_workspace_only() -> None:
    for template in (f"{ROOT}/Workers", f"{ROOT}/Tasks", f"{ROOT}/Statistics", f"{ROOT}/Workers/{{sid}}/Statistics",
                     f"{ROOT}/TaskQueues/{{sid}}/CumulativeStatistics"):
        assert allowed(decide(SUPERVISOR, ask("GET", template, sid=L))), template
    assert allowed(decide(Grant(W, K, "admin"), ask("GET", f"{ROOT}/Workers")))
    assert allowed(decide(SUPERVISOR, ask("POST", f"{ROOT}/TaskQueues/RealTimeStatistics")))
    assert not decide(SUPERVISOR, ask("POST", f"{ROOT}/Tasks")).allowed
    assert not decide(SUPERVISOR, ask("GET", f"{ROOT}/Events")).allowed
    other = Asked(method="GET", template=f"{ROOT}/Workers", params={"workspace_sid": "WS2"}, form={})
    assert not decide(SUPERVISOR, other).allowed
    assert not decide(Grant(None, None, "supervisor"), ask("GET", f"{ROOT}/Workers")).allowed


def test_flex_interactions_an_agent_may_touch() -> None:
    channel = f"{FLEX}/{{interaction_sid}}/Channels/{{channel_sid}}"
    held = Requirement("interaction_task_held", "KD1")
    params = {"interaction_sid": "KD1", "channel_sid": "UO1"}
    assert allowed(decide(AGENT, ask("GET", f"{channel}/Participants", **params)), held)
    assert allowed(decide(AGENT, ask("POST", f"{channel}/Invites", {"Routing": "{}"}, **params)), held)
    assert allowed(decide(AGENT, ask("POST", f"{channel}/Transfers", **params)), held)
    own = decide(AGENT, ask("POST", f"{channel}/Participants/{{sid}}", {"Status": "wrapup"}, sid="UT1", **params))
    assert allowed(own, Requirement("own_channel_participant", "UT1", parent_sid="UO1"))
    assert not decide(AGENT, ask("POST", f"{channel}/Participants/{{sid}}", {"Status": "joined"}, sid="UT1",
                                 **params)).allowed
    # Closing the channel ("End chat") and agent-initiated outbound: tests/unit/test_token_policy_desk.py.
    assert not decide(AGENT, ask("POST", f"{FLEX}/{{interaction_sid}}/Channels/{{sid}}", {"Status": "inactive"},
                                 interaction_sid="KD1", sid="UO1")).allowed
    assert not decide(AGENT, ask("POST", FLEX)).allowed  # anything but agent-initiated is the back end's
    assert not decide(Grant(W, None, None), ask("GET", f"{FLEX}/{{sid}}", sid="KD1")).allowed


def test_anything_else_is_refused() -> None:
    assert not decide(SUPERVISOR, ask("GET", "/taskrouter/v1/Workspaces")).allowed
    assert not decide(SUPERVISOR, ask("GET", "/parley/v1/Flows")).allowed
