"""Running a flow from its trigger: a pure walk over the states that says what to do, not doing it.

The walk starts at the initial (trigger) state on an `incomingMessage`, follows transitions, and stops at
a state with nowhere to go or at Send to Flex, which ends the execution. Send-and-wait-for-reply sends its
message and pauses the walk (`waiting`); the customer's next message (`incomingMessage`, its body in
`widgets.<state>.inbound.Body`) or the widget's timeout (`timeout`) resumes it from there. It never loops
forever: more than `MAX_STEPS` states in one walk end it as failed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from services.router.flows.definition import Definition, State, Transition
from services.router.flows.templating import render, render_value

MAX_STEPS = 100


@dataclass(frozen=True)
class SendMessage:
    body: str


@dataclass(frozen=True)
class SendToFlex:
    workflow_sid: str
    task_channel: str
    attributes: dict[str, Any]


@dataclass
class Walk:
    actions: list[SendMessage | SendToFlex] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    widgets: dict[str, Any] = field(default_factory=dict)
    state: str | None = None
    status: str = "ended"  # ended | failed | waiting
    wait_seconds: int | None = None  # while waiting: how long the reply may take


@dataclass(frozen=True)
class Resume:
    """Where a waiting walk goes on: the waiting state, what happened (`incomingMessage` or `timeout`), and the
    customer's reply, when there is one."""

    state: str
    event: str
    reply: dict[str, Any] | None = None


DEFAULT_WAIT_SECONDS = 3600  # Studio's send-and-wait-for-reply default


def trigger_context(*, conversation_sid: str, author: str | None, body: str | None, message_sid: str | None,
                    participant_sid: str | None) -> dict[str, Any]:
    return {"conversation": {"ConversationSid": conversation_sid},
            "message": {"Body": body or "", "Author": author or "", "MessageSid": message_sid or "",
                        "ParticipantSid": participant_sid or "", "ConversationSid": conversation_sid}}


def run(definition: Definition, trigger: dict[str, Any], variables: dict[str, Any] | None = None, *,
        widgets: dict[str, Any] | None = None, resume: Resume | None = None) -> Walk:
    walk = Walk(variables=dict(variables or {}), widgets=dict(widgets or {}))
    if resume is None:
        current: str | None = definition.states[definition.initial_state].next_for("incomingMessage")
    else:
        if resume.reply is not None:
            walk.widgets[resume.state] = {"inbound": resume.reply}
        waiting = definition.states.get(resume.state)
        current = waiting.next_for(resume.event) if waiting is not None else None
        walk.state = resume.state
    for _ in range(MAX_STEPS):
        if current is None:
            return walk
        state = definition.states[current]
        walk.state = state.name
        context = {"trigger": trigger, "flow": {"variables": walk.variables}, "widgets": walk.widgets}
        current = _step(state, context, walk)
        if state.type == "send-to-flex" or walk.status == "waiting":
            return walk
    walk.status = "failed"
    return walk


def _step(state: State, context: dict[str, Any], walk: Walk) -> str | None:
    props = state.properties
    if state.type == "send-message":
        walk.actions.append(SendMessage(body=render(props["body"], context)))
        return state.next_for("sent")
    if state.type == "send-and-wait-for-reply":
        walk.actions.append(SendMessage(body=render(props["body"], context)))
        walk.status = "waiting"
        walk.wait_seconds = int(props.get("timeout", DEFAULT_WAIT_SECONDS))
        return None
    if state.type == "set-variables":
        for item in props["variables"]:
            walk.variables[item["key"]] = render_value(item["value"], context)
        return state.next_for("next")
    if state.type == "split-based-on":
        value = render(props["input"], context)
        for transition in state.transitions:
            if transition.event == "match" and _matches(transition, value):
                return transition.next
        return state.next_for("noMatch")
    if state.type == "send-to-flex":
        attributes = props.get("attributes", {})
        if isinstance(attributes, str):
            attributes = json.loads(attributes)
        walk.actions.append(SendToFlex(workflow_sid=props["workflow"], task_channel=props["channel"],
                                       attributes=render_value(attributes, context)))
        return None
    return state.next_for("incomingMessage")  # a trigger reached again: go on as from the start


def _matches(transition: Transition, value: str) -> bool:
    """Every condition of the transition holds (case-insensitive, as Studio compares)."""
    subject = value.strip().lower()
    for condition in transition.conditions:
        wanted = condition["value"]
        options = wanted if isinstance(wanted, list) else [part.strip() for part in str(wanted).split(",")]
        options = [str(option).strip().lower() for option in options]
        kind = condition["type"]
        if kind == "equal_to":
            ok = subject == str(wanted if not isinstance(wanted, list) else wanted[0]).strip().lower()
        elif kind == "matches_any_of":
            ok = subject in options
        else:  # contains
            needle = str(wanted if not isinstance(wanted, list) else wanted[0]).strip().lower()
            ok = needle in subject if " " in needle else needle in set(re.findall(r"\w+", subject)) or needle in subject
        if not ok:
            return False
    return True
