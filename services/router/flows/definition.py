"""A flow's definition JSON: states with a type, properties and transitions; checked before it is stored."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from shared.errors import TwilioError, invalid_parameter

TYPES = ("trigger", "send-message", "send-and-wait-for-reply", "split-based-on", "set-variables", "send-to-flex")
CONDITION_TYPES = ("equal_to", "matches_any_of", "contains")


@dataclass(frozen=True)
class Transition:
    event: str
    next: str | None
    conditions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class State:
    name: str
    type: str
    properties: dict[str, Any]
    transitions: list[Transition]

    def next_for(self, event: str) -> str | None:
        for transition in self.transitions:
            if transition.event == event:
                return transition.next
        return None


@dataclass(frozen=True)
class Definition:
    initial_state: str
    states: dict[str, State]


def _fault(message: str) -> TwilioError:
    return invalid_parameter(f"Invalid Definition: {message}")


def parse_definition(raw: str | dict[str, Any]) -> Definition:
    """The definition, or a 400 naming what is wrong with it."""
    if isinstance(raw, str):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as error:
            raise _fault(f"not JSON ({error.msg})") from error
    else:
        data = raw
    if not isinstance(data, dict):
        raise _fault("must be a JSON object")
    states_raw = data.get("states")
    if not isinstance(states_raw, list) or not states_raw:
        raise _fault("states must be a non-empty list")
    states: dict[str, State] = {}
    for index, item in enumerate(states_raw):
        states_state = _parse_state(item, index)
        if states_state.name in states:
            raise _fault(f"state name '{states_state.name}' is used twice")
        states[states_state.name] = states_state
    initial = data.get("initial_state", "Trigger")
    if not isinstance(initial, str) or initial not in states:
        raise _fault(f"initial_state '{initial}' names no state")
    if states[initial].type != "trigger":
        raise _fault(f"initial_state '{initial}' must be a trigger")
    for state in states.values():
        for transition in state.transitions:
            if transition.next is not None and transition.next not in states:
                raise _fault(f"state '{state.name}': transition '{transition.event}' goes to unknown state "
                             f"'{transition.next}'")
    return Definition(initial_state=initial, states=states)


def _parse_state(item: Any, index: int) -> State:
    if not isinstance(item, dict):
        raise _fault(f"states[{index}] must be an object")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise _fault(f"states[{index}] needs a name")
    kind = item.get("type")
    if kind not in TYPES:
        raise _fault(f"state '{name}': type '{kind}' is not one of {', '.join(TYPES)}")
    properties = item.get("properties", {})
    if not isinstance(properties, dict):
        raise _fault(f"state '{name}': properties must be an object")
    transitions_raw = item.get("transitions", [])
    if not isinstance(transitions_raw, list):
        raise _fault(f"state '{name}': transitions must be a list")
    transitions = [_parse_transition(name, kind, t) for t in transitions_raw]
    _check_properties(name, kind, properties)
    return State(name=name, type=kind, properties=properties, transitions=transitions)


def _parse_transition(name: str, kind: str, item: Any) -> Transition:
    if not isinstance(item, dict) or not isinstance(item.get("event"), str):
        raise _fault(f"state '{name}': each transition needs an event")
    target = item.get("next")
    if target is not None and not isinstance(target, str):
        raise _fault(f"state '{name}': transition next must be a state name")
    conditions = item.get("conditions", [])
    if kind == "split-based-on" and item["event"] == "match":
        if not isinstance(conditions, list) or not conditions:
            raise _fault(f"state '{name}': a match transition needs conditions")
        for condition in conditions:
            if not isinstance(condition, dict) or condition.get("type") not in CONDITION_TYPES:
                raise _fault(f"state '{name}': condition type must be one of {', '.join(CONDITION_TYPES)}")
            if not isinstance(condition.get("value"), str | list):
                raise _fault(f"state '{name}': condition needs a value")
    return Transition(event=item["event"], next=target, conditions=list(conditions or []))


def _check_properties(name: str, kind: str, properties: dict[str, Any]) -> None:
    if kind in ("send-message", "send-and-wait-for-reply") and not isinstance(properties.get("body"), str):
        raise _fault(f"state '{name}': {kind} needs properties.body")
    if kind == "send-and-wait-for-reply" and "timeout" in properties:
        timeout = properties["timeout"]
        if isinstance(timeout, str) and timeout.isdigit():
            timeout = int(timeout)
        if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= 86400 * 7:
            raise _fault(f"state '{name}': send-and-wait-for-reply timeout must be 1 to 604800 seconds")
    if kind == "split-based-on" and not isinstance(properties.get("input"), str):
        raise _fault(f"state '{name}': split-based-on needs properties.input")
    if kind == "set-variables":
        variables = properties.get("variables")
        if not isinstance(variables, list) or not all(
                isinstance(v, dict) and isinstance(v.get("key"), str) and "value" in v for v in variables):
            raise _fault(f"state '{name}': set-variables needs properties.variables as [{{key, value}}]")
    if kind == "send-to-flex":
        workflow = properties.get("workflow")
        if not isinstance(workflow, str) or not workflow.startswith("WW"):
            raise _fault(f"state '{name}': send-to-flex needs properties.workflow (a WW… SID)")
        if not isinstance(properties.get("channel"), str):
            raise _fault(f"state '{name}': send-to-flex needs properties.channel (a task channel unique name)")
        attributes = properties.get("attributes", {})
        if isinstance(attributes, str):
            try:
                attributes = json.loads(attributes)
            except ValueError as error:
                raise _fault(f"state '{name}': attributes are not JSON") from error
        if not isinstance(attributes, dict):
            raise _fault(f"state '{name}': attributes must be a JSON object")
