"""A customer writing in a Flex channel nobody holds any more gets a new task through the channel's last routing;
agents' messages, conversations never handed to Flex and a flow waiting for the customer's answer are left alone."""

import json
from typing import Any

from shared.broker.topology import ROUTER_CUSTOMER_MESSAGES
from tests.flex.conftest import ContactCenter
from tests.flex.test_flow_questions import studio_address
from tests.flex.test_invites_transfers import accepted_interaction, tasks_of
from tests.router.engine_checks import router_connection
from tests.support.waiting import eventually

OTHER_CUSTOMER = "+15557650001"


async def every_message_handled(center: ContactCenter, conversation_sid: str, count: int) -> None:
    """Barrier: the conversation holds `count` messages and the router's consumer of new messages (its inbox) has
    handled that many: whatever a message would have opened is open by now."""
    await eventually(lambda: center.get(f"/conversations/v1/Conversations/{conversation_sid}/Messages"),
                     until=lambda found: len(found["messages"]) == count, what=f"{count} messages stored")
    conn = await router_connection(center.parley.settings)
    try:
        await eventually(lambda: conn.fetchval("SELECT count(*) FROM processed_messages WHERE consumer = $1",
                                               ROUTER_CUSTOMER_MESSAGES.name),
                         until=lambda handled: handled == count, what=f"{count} new messages handled by the router")
    finally:
        await conn.close()


async def agent_left(center: ContactCenter, conversation_sid: str | None = None) -> tuple[str, str, str]:
    """Alice accepted the customer's task and then closed her participant (completing it without wrap-up): the
    conversation stays active with the customer alone. (conversation, channel URL, first task)"""
    conversation_sid, channel_url, task_sid, alice = await accepted_interaction(center, conversation_sid)
    await center.post(f"{channel_url}/Participants/{alice['sid']}", {"Status": "closed"})
    await center.wait_identities(conversation_sid, set())
    assert (await center.task(task_sid))["assignment_status"] == "completed"
    assert (await center.conversation(conversation_sid))["state"] == "active"
    return conversation_sid, channel_url, task_sid


async def new_tasks(center: ContactCenter, first_task: str) -> list[dict[str, Any]]:
    return [task for task in await tasks_of(center) if task["sid"] != first_task]


async def test_a_customer_writing_after_the_last_agent_left_gets_a_new_task_and_an_agent(
        center: ContactCenter) -> None:
    conversation_sid, channel_url, first_task = await agent_left(center)
    await center.make_available(center.bob)

    await center.customer_writes("Hello? Anyone there?")
    await center.customer_writes("I still need help")  # right behind: the same task answers both
    (task,) = await eventually(lambda: new_tasks(center, first_task), what="a new task for the channel")
    attributes = json.loads(task["attributes"])
    assert attributes["conversationSid"] == conversation_sid
    assert attributes["flexInteractionChannelSid"] == channel_url.rsplit("/", 1)[1]
    assert attributes["from"] == "Customer"  # the last task's attributes carry over
    assert (task["workflow_sid"], task["task_queue_sid"]) == (center.workflow_sid, center.queue_sid)

    offered = await center.pending_reservation(task["sid"])
    agent = next(agent for agent in (center.alice, center.bob) if agent.sid == offered["worker_sid"])
    await center.accept(task["sid"], agent)
    await center.wait_identities(conversation_sid, {agent.identity})
    await every_message_handled(center, conversation_sid, 2)
    assert len(await new_tasks(center, first_task)) == 1


async def test_a_conversation_never_handed_to_flex_gets_no_task(center: ContactCenter) -> None:
    conversation_sid = await center.conversation_with_customer(customer=OTHER_CUSTOMER)
    await center.customer_writes("Just a conversation", customer=OTHER_CUSTOMER)
    await every_message_handled(center, conversation_sid, 1)
    assert await tasks_of(center) == []


async def test_an_agents_own_message_in_a_channel_nobody_holds_does_not_reopen_it(center: ContactCenter) -> None:
    conversation_sid, _, first_task = await agent_left(center)
    # Alice is back in the conversation (not on the channel) and writes: that calls no agent.
    await center.post(f"/conversations/v1/Conversations/{conversation_sid}/Participants", {"Identity": "alice"},
                      status=201)
    written = await center.post(f"/conversations/v1/Conversations/{conversation_sid}/Messages",
                                {"Author": "alice", "Body": "One more thing: your refund is on its way"}, status=201)
    assert written["participant_sid"] is not None
    await center.post(f"/conversations/v1/Conversations/{conversation_sid}/Messages",
                      {"Body": "A note from the API"}, status=201)
    await every_message_handled(center, conversation_sid, 2)
    assert await new_tasks(center, first_task) == []

    await center.customer_writes("Thanks! And another question")  # the customer's own message does
    await eventually(lambda: new_tasks(center, first_task), what="the customer's message reopening the channel")


def question_then_thanks() -> dict[str, Any]:
    return {"initial_state": "Trigger", "states": [
        {"name": "Trigger", "type": "trigger", "properties": {},
         "transitions": [{"event": "incomingMessage", "next": "Ask"}]},
        {"name": "Ask", "type": "send-and-wait-for-reply", "properties": {"body": "Your order number?", "timeout": 3600},
         "transitions": [{"event": "incomingMessage", "next": "Thanks"}, {"event": "timeout", "next": "Thanks"}]},
        {"name": "Thanks", "type": "send-message", "properties": {"body": "Noted: {{widgets.Ask.inbound.Body}}"},
         "transitions": []},
    ]}


async def test_a_flow_waiting_for_the_customers_answer_takes_it_and_no_task_opens(center: ContactCenter) -> None:
    await studio_address(center, question_then_thanks())
    await center.customer_writes("Hi")
    await center.carrier.wait_for(1)  # the flow asked, and waits
    (conversation,) = (await center.get("/conversations/v1/Conversations"))["conversations"]
    conversation_sid, _, first_task = await agent_left(center, conversation["sid"])  # handed to Flex meanwhile

    await center.customer_writes("A-1234")
    sent = await center.carrier.wait_for(2)
    assert sent[1].field("Body") == "Noted: A-1234"  # the answer went to the flow
    await every_message_handled(center, conversation_sid, 4)
    assert await new_tasks(center, first_task) == []

    await center.customer_writes("And now I need a person")  # the flow is over: this one reopens the channel
    await eventually(lambda: new_tasks(center, first_task), what="the message after the flow reopening the channel")
