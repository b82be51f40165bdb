"""A supervisor's token (task_router role supervisor) may read any conversation of its account and join it as
itself; it may not add anyone else, and an agent's token may do neither in a conversation it is not in."""

import httpx
import pytest

from tests.support.parley import RunningParley

V1 = "/conversations/v1"


async def token(client: httpx.AsyncClient, identity: str, role: str) -> str:
    """An agent with that role (and a workspace, so its token carries the role), signed in by the account."""
    workspace = (await client.post("/taskrouter/v1/Workspaces", data={"FriendlyName": f"ws-{identity}"})).json()
    created = await client.post("/parley/v1/Agents", data={"Identity": identity, "Roles": role,
                                                          "WorkspaceSid": workspace["sid"]})
    assert created.status_code == 201, created.text
    issued = await client.post("/parley/v1/AccessTokens", data={"Identity": identity})
    assert issued.status_code == 201, issued.text
    return str(issued.json()["token"])


@pytest.fixture
async def conversation(parley: RunningParley) -> str:
    async with parley.client() as client:
        sid = (await client.post(f"{V1}/Conversations", data={"FriendlyName": "Ana"})).json()["sid"]
        await client.post(f"{V1}/Conversations/{sid}/Participants", data={"Identity": "alice"})
        await client.post(f"{V1}/Conversations/{sid}/Messages", data={"Author": "alice", "Body": "Hello Ana"})
    return str(sid)


async def test_a_supervisor_reads_any_conversation_and_joins_it_as_itself(
    parley: RunningParley, conversation: str
) -> None:
    async with parley.client() as client:
        supervisor = await token(client, "sam", "supervisor")
    async with httpx.AsyncClient(base_url=parley.base_url, headers={"X-Twilio-Token": supervisor}) as sam:
        assert (await sam.get(f"{V1}/Conversations/{conversation}")).status_code == 200
        messages = (await sam.get(f"{V1}/Conversations/{conversation}/Messages")).json()["messages"]
        assert [m["body"] for m in messages] == ["Hello Ana"]
        # Watching does not let it write, nor add anyone but itself.
        assert (await sam.post(f"{V1}/Conversations/{conversation}/Messages", data={"Body": "hi"})).status_code == 404
        other = await sam.post(f"{V1}/Conversations/{conversation}/Participants", data={"Identity": "mallory"})
        assert other.status_code == 404, other.text
        joined = await sam.post(f"{V1}/Conversations/{conversation}/Participants", data={"Identity": "sam"})
        assert joined.status_code == 201, joined.text
        written = await sam.post(f"{V1}/Conversations/{conversation}/Messages", data={"Body": "Supervisor here"})
        assert written.status_code == 201 and written.json()["author"] == "sam"
    async with parley.client() as client:
        participants = (await client.get(f"{V1}/Conversations/{conversation}/Participants")).json()["participants"]
    assert {p["identity"] for p in participants} == {"alice", "sam"}


async def test_an_agent_cannot_read_or_join_a_conversation_it_is_not_in(
    parley: RunningParley, conversation: str
) -> None:
    async with parley.client() as client:
        agent = await token(client, "bob", "agent")
    async with httpx.AsyncClient(base_url=parley.base_url, headers={"X-Twilio-Token": agent}) as bob:
        assert (await bob.get(f"{V1}/Conversations/{conversation}")).status_code == 404
        assert (await bob.get(f"{V1}/Conversations/{conversation}/Messages")).status_code == 404
        refused = await bob.post(f"{V1}/Conversations/{conversation}/Participants", data={"Identity": "bob"})
        assert refused.status_code == 404, refused.text
