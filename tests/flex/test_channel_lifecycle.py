"""An interaction channel's life beyond its agents: a canceled or expired task closes it; a failed set-up shows."""

import json

import asyncpg

from tests.flex.conftest import ContactCenter
from tests.flex.test_flows import greeting_flow
from tests.support.waiting import eventually


async def channel_of(center: ContactCenter, created: dict[str, str | dict[str, str]]) -> dict[str, str]:
    channel = created["channel"]
    assert isinstance(channel, dict)
    return await center.get(f"/flex-api/v1/Interactions/{created['sid']}/Channels/{channel['sid']}")


async def test_a_canceled_task_closes_its_channel_and_conversation(center: ContactCenter) -> None:
    conversation_sid = await center.conversation_with_customer()
    created = await center.inbound_interaction(conversation_sid)
    task_sid = created["routing"]["properties"]["sid"]
    await center.post(f"{center.ws}/Tasks/{task_sid}", {"AssignmentStatus": "canceled", "Reason": "spam"})
    assert (await channel_of(center, created))["status"] == "closed"
    await eventually(lambda: center.conversation(conversation_sid), until=lambda c: c["state"] == "closed",
                     what="the conversation closed")
    # The customer writing again starts afresh: a new conversation is free for a new interaction.
    again = await center.conversation_with_customer()
    assert again != conversation_sid
    assert (await center.inbound_interaction(again))["routing"]["properties"]["sid"] != task_sid


async def test_a_task_that_outlives_its_ttl_closes_its_channel_and_conversation(center: ContactCenter) -> None:
    conversation_sid = await center.conversation_with_customer()
    created = await center.inbound_interaction(conversation_sid)  # the default TTL: a day
    task_sid = created["routing"]["properties"]["sid"]
    short = await center.conversation_with_customer(customer="+15557650000")
    expiring = await center.post("/flex-api/v1/Interactions", {
        "Channel": json.dumps({"type": "sms", "initiated_by": "customer", "properties": {"media_channel_sid": short}}),
        "Routing": json.dumps({"properties": {"workspace_sid": center.workspace_sid,
                                              "workflow_sid": center.workflow_sid,
                                              "task_channel_unique_name": "chat", "timeout": 1}})})
    expiring_task = expiring["routing"]["properties"]["sid"]
    await eventually(lambda: center.task(expiring_task), until=lambda t: t["assignment_status"] == "canceled",
                     what="the task canceled by its TTL")
    assert (await center.task(expiring_task))["reason"] == "Task TTL Exceeded"
    assert (await channel_of(center, expiring))["status"] == "closed"
    await eventually(lambda: center.conversation(short), until=lambda c: c["state"] == "closed",
                     what="the expired task's conversation closed")
    # The other interaction, with its long TTL, is untouched.
    assert (await channel_of(center, created))["status"] == "active"
    assert (await center.task(task_sid))["assignment_status"] == "pending"


async def test_an_invites_canceled_task_leaves_the_channel_to_its_agent(center: ContactCenter) -> None:
    conversation_sid = await center.conversation_with_customer()
    created = await center.inbound_interaction(conversation_sid)
    await center.make_available(center.alice)
    await center.accept(created["routing"]["properties"]["sid"])
    await center.wait_identities(conversation_sid, {"alice"})
    channel_url = f"/flex-api/v1/Interactions/{created['sid']}/Channels/{created['channel']['sid']}"
    await center.post(f"{channel_url}/Invites", {"Routing": json.dumps({"properties": {
        "workspace_sid": center.workspace_sid, "workflow_sid": center.workflow_sid,
        "task_channel_unique_name": "chat"}})})
    invited = [t for t in (await center.get(f"{center.ws}/Tasks"))["tasks"]
               if t["sid"] != created["routing"]["properties"]["sid"]]
    (invite_task,) = invited
    await center.post(f"{center.ws}/Tasks/{invite_task['sid']}", {"AssignmentStatus": "canceled"})
    assert (await channel_of(center, created))["status"] == "active"
    assert (await center.conversation(conversation_sid))["state"] == "active"


async def test_a_send_to_flex_that_fails_leaves_a_failed_channel(center: ContactCenter) -> None:
    """Nobody waits on a flow's Send to Flex: when it fails (here its workflow was deleted after the flow was
    saved), the interaction's channel says so, with the error."""
    doomed = await center.post(f"{center.ws}/Workflows", {"FriendlyName": "Doomed", "Configuration": json.dumps(
        {"task_routing": {"filters": [], "default_filter": {"queue": center.queue_sid}}})}, status=201)
    flow = await center.post("/parley/v1/Flows", {"FriendlyName": "Doomed flow",
                                                  "Definition": json.dumps(greeting_flow(doomed["sid"]))}, status=201)
    assert (await center.http.delete(f"{center.ws}/Workflows/{doomed['sid']}")).status_code == 204
    await center.post("/conversations/v1/Configuration/Addresses", {
        "Type": "sms", "Address": "+15550001111", "AutoCreation.Enabled": "true", "AutoCreation.Type": "studio",
        "AutoCreation.StudioFlowSid": flow["sid"]}, status=201)
    await center.customer_writes("Hello")
    await center.carrier.wait_for(1)  # the greeting still went out

    settings = center.parley.settings
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": settings.schema_name("router")})
    try:
        async def failed() -> list[asyncpg.Record]:
            return list(await conn.fetch("SELECT interaction_sid, sid FROM interaction_channels WHERE status = 'failed'"))

        (row,) = await eventually(failed, what="the failed interaction channel")
    finally:
        await conn.close()
    channel = await center.get(f"/flex-api/v1/Interactions/{row['interaction_sid']}/Channels/{row['sid']}")
    assert channel["status"] == "failed" and channel["error_code"] == 20001
    assert doomed["sid"] in channel["error_message"]
    interaction = await center.get(f"/flex-api/v1/Interactions/{row['interaction_sid']}")
    assert interaction["channel"] == {"type": "sms", "sid": row["sid"]}
    assert interaction["routing"]["properties"] is None
    assert (await center.get(f"{center.ws}/Tasks"))["tasks"] == []
