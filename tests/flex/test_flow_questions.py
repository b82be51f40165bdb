"""Send-and-wait-for-reply: a flow asks the customer a question and splits on the answer, or times out."""

import json
from typing import Any

from services.router.flows.definition import parse_definition
from services.router.flows.engine import Resume, SendMessage, SendToFlex, run, trigger_context
from tests.flex.conftest import CUSTOMER, PARLEY_NUMBER, ContactCenter
from tests.support.waiting import eventually


def question_flow(workflow_sid: str, *, timeout: int = 3600) -> dict[str, Any]:
    return {"initial_state": "Trigger", "states": [
        {"name": "Trigger", "type": "trigger", "properties": {},
         "transitions": [{"event": "incomingMessage", "next": "Ask"}]},
        {"name": "Ask", "type": "send-and-wait-for-reply",
         "properties": {"body": "Sales or support?", "timeout": timeout},
         "transitions": [{"event": "incomingMessage", "next": "Topic"}, {"event": "timeout", "next": "Nobody"}]},
        {"name": "Topic", "type": "split-based-on", "properties": {"input": "{{widgets.Ask.inbound.Body}}"},
         "transitions": [
             {"event": "match", "next": "Sales", "conditions": [{"type": "matches_any_of", "value": "sales,buy"}]},
             {"event": "noMatch", "next": "Support"}]},
        {"name": "Sales", "type": "set-variables", "properties": {"variables": [{"key": "team", "value": "sales"}]},
         "transitions": [{"event": "next", "next": "Flex"}]},
        {"name": "Support", "type": "set-variables",
         "properties": {"variables": [{"key": "team", "value": "support"}]},
         "transitions": [{"event": "next", "next": "Flex"}]},
        {"name": "Nobody", "type": "send-message", "properties": {"body": "No answer: an agent will write to you"},
         "transitions": [{"event": "sent", "next": "Flex"}]},
        {"name": "Flex", "type": "send-to-flex", "properties": {
            "workflow": workflow_sid, "channel": "chat",
            "attributes": {"team": "{{flow.variables.team}}", "first": "{{trigger.message.Body}}",
                           "answer": "{{widgets.Ask.inbound.Body}}"}},
         "transitions": []},
    ]}


WW = "WW" + "0" * 32


def test_the_engine_waits_at_the_question_and_goes_on_with_the_reply_or_the_timeout() -> None:
    definition = parse_definition(question_flow(WW, timeout=30))
    trigger = trigger_context(conversation_sid="CH" + "1" * 32, author=CUSTOMER, body="Hi", message_sid=None,
                              participant_sid=None)
    asked = run(definition, trigger)
    assert (asked.status, asked.state, asked.wait_seconds) == ("waiting", "Ask", 30)
    assert asked.actions == [SendMessage(body="Sales or support?")]

    answered = run(definition, trigger, asked.variables, widgets=asked.widgets,
                   resume=Resume(state="Ask", event="incomingMessage", reply={"Body": "Sales"}))
    assert answered.status == "ended" and answered.state == "Flex"
    assert answered.actions == [SendToFlex(workflow_sid=WW, task_channel="chat",
                                           attributes={"team": "sales", "first": "Hi", "answer": "Sales"})]
    silent = run(definition, trigger, asked.variables, widgets=asked.widgets, resume=Resume(state="Ask", event="timeout"))
    assert silent.actions[0] == SendMessage(body="No answer: an agent will write to you")
    assert silent.actions[1] == SendToFlex(workflow_sid=WW, task_channel="chat",
                                           attributes={"team": "", "first": "Hi", "answer": ""})


async def studio_address(center: ContactCenter, definition: dict[str, Any]) -> None:
    flow = await center.post("/parley/v1/Flows", {"FriendlyName": "Question", "Definition": json.dumps(definition)},
                             status=201)
    await center.post("/conversations/v1/Configuration/Addresses", {
        "Type": "sms", "Address": PARLEY_NUMBER, "AutoCreation.Enabled": "true", "AutoCreation.Type": "studio",
        "AutoCreation.StudioFlowSid": flow["sid"]}, status=201)


async def tasks_of(center: ContactCenter) -> list[dict[str, Any]]:
    return list((await center.get(f"{center.ws}/Tasks"))["tasks"])


async def test_a_flow_asks_and_splits_on_the_customers_reply(center: ContactCenter) -> None:
    await studio_address(center, question_flow(center.workflow_sid))
    await center.customer_writes("Hi there")
    (question,) = await center.carrier.wait_for(1)
    assert question.field("To") == CUSTOMER and question.field("Body") == "Sales or support?"
    assert await tasks_of(center) == []  # waiting for the answer

    await center.customer_writes("Sales")
    (task,) = await eventually(lambda: tasks_of(center), what="the task after the answer")
    attributes = json.loads(task["attributes"])
    assert (attributes["team"], attributes["first"], attributes["answer"]) == ("sales", "Hi there", "Sales")

    # The flow ended: later messages neither ask again nor make a second task.
    await center.customer_writes("Hello?")
    conversation_sid = attributes["conversationSid"]
    await eventually(lambda: center.get(f"/conversations/v1/Conversations/{conversation_sid}/Messages"),
                     until=lambda found: len(found["messages"]) == 4, what="the third message")
    assert len(center.carrier.requests) == 1 and len(await tasks_of(center)) == 1


async def test_a_question_nobody_answers_times_out_to_its_timeout_transition(center: ContactCenter) -> None:
    await studio_address(center, question_flow(center.workflow_sid, timeout=1))
    await center.customer_writes("Hi there")
    sent = await center.carrier.wait_for(2)
    assert [request.field("Body") for request in sent] == ["Sales or support?", "No answer: an agent will write to you"]
    (task,) = await eventually(lambda: tasks_of(center), what="the task after the timeout")
    assert json.loads(task["attributes"])["team"] == ""
