"""What the agent desktop needs of the token policy besides h-auth's rules: ending a chat it holds, starting
an outbound conversation for itself."""

import json

from services.router.domain.token_policy import Asked, Grant, Requirement, decide

W, K, L = "WS1", "WK1", "WK2"
AGENT = Grant(workspace_sid=W, worker_sid=K, role=None)
FLEX = "/flex-api/v1/Interactions"
CHANNEL = f"{FLEX}/{{interaction_sid}}/Channels/{{sid}}"


def ask(method: str, template: str, form: dict[str, str] | None = None, **params: str) -> Asked:
    return Asked(method=method, template=template, params=params, form=form or {})


def test_an_agent_closes_the_channel_of_an_interaction_it_holds_but_never_routes_it_closed() -> None:
    decision = decide(AGENT, ask("POST", CHANNEL, {"Status": "closed"}, interaction_sid="KD1", sid="UO1"))
    assert decision.allowed and decision.requirement == Requirement("interaction_task_held", "KD1")
    # Completing every task of the channel (Routing closed) or parking it stays the account's.
    for form in ({"Status": "closed", "Routing": json.dumps({"status": "closed"})}, {"Status": "inactive"}):
        assert not decide(AGENT, ask("POST", CHANNEL, form, interaction_sid="KD1", sid="UO1")).allowed


def outbound(initiated_by: str = "agent", **properties: str) -> dict[str, str]:
    return {"Channel": json.dumps({"type": "sms", "initiated_by": initiated_by,
                                   "participants": [{"address": "+15550001", "proxy_address": "+15550002"}]}),
            "Routing": json.dumps({"properties": {"workspace_sid": W, "queue_sid": "WQ1", **properties}})}


def test_an_agent_starts_an_outbound_conversation_only_for_itself() -> None:
    assert decide(AGENT, ask("POST", FLEX, outbound(worker_sid=K))).allowed
    assert not decide(AGENT, ask("POST", FLEX, outbound(worker_sid=L))).allowed
    assert not decide(AGENT, ask("POST", FLEX, outbound())).allowed  # routed to anybody
    assert not decide(AGENT, ask("POST", FLEX, outbound("api", worker_sid=K))).allowed
    assert not decide(AGENT, ask("POST", FLEX, outbound(worker_sid=K, workspace_sid="WS2"))).allowed
    assert not decide(Grant(workspace_sid=W, worker_sid=None, role=None), ask("POST", FLEX, outbound())).allowed
    assert not decide(AGENT, ask("GET", FLEX)).allowed
