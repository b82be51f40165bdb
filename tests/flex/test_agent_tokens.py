"""An agent's access token on TaskRouter and Flex Interactions: its own worker, its own reservations and tasks,
its own channel participant; a supervisor reads the workspace; anything else is refused (403, 20403)."""

from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from tests.flex.conftest import Agent, ContactCenter


async def agent_token(center: ContactCenter, agent: Agent, *roles: str) -> httpx.AsyncClient:
    """Registers the agent (/parley/v1/Agents) and gives a client carrying its token (/parley/v1/AccessTokens)."""
    await center.post("/parley/v1/Agents", {"Identity": agent.identity, "WorkspaceSid": center.workspace_sid,
                                            "WorkerSid": agent.sid, "Roles": list(roles or ["agent"])}, status=201)
    token = (await center.post("/parley/v1/AccessTokens", {"Identity": agent.identity}, status=201))["token"]
    return httpx.AsyncClient(base_url=center.parley.base_url, headers={"X-Twilio-Token": token}, timeout=30)


def forbidden(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["code"] == 20403


async def test_an_agent_takes_its_own_offer_and_cannot_touch_anyone_elses(center: ContactCenter) -> None:
    ws = center.ws
    async with await agent_token(center, center.alice) as alice, await agent_token(center, center.bob) as bob:
        # Its own activity: yes; anything else about itself, or anyone else's activity: no.
        became = await alice.post(f"{ws}/Workers/{center.alice.sid}", data={"ActivitySid": center.available_sid})
        assert (became.status_code, became.json()["activity_sid"]) == (200, center.available_sid), became.text
        forbidden(await alice.post(f"{ws}/Workers/{center.alice.sid}", data={"FriendlyName": "Queen Alice"}))
        forbidden(await alice.post(f"{ws}/Workers/{center.bob.sid}", data={"ActivitySid": center.available_sid}))
        assert (await center.get(f"{ws}/Workers/{center.bob.sid}"))["available"] is False

        conversation_sid = await center.conversation_with_customer()
        created = await center.inbound_interaction(conversation_sid)
        task_sid = created["routing"]["properties"]["sid"]
        offer = await center.pending_reservation(task_sid, center.alice)

        # Bob may not see or take Alice's offer, by either path.
        forbidden(await bob.get(f"{ws}/Tasks/{task_sid}"))
        forbidden(await bob.post(f"{ws}/Tasks/{task_sid}/Reservations/{offer['sid']}",
                                 data={"ReservationStatus": "accepted"}))
        through_own = await bob.post(f"{ws}/Workers/{center.bob.sid}/Reservations/{offer['sid']}",
                                     data={"ReservationStatus": "accepted"})
        assert through_own.status_code == 404, through_own.text
        assert (await center.get(f"{ws}/Tasks/{task_sid}/Reservations/{offer['sid']}"))["reservation_status"] == "pending"

        # Alice sees the task offered to her, and accepts through her own worker's reservations.
        assert (await alice.get(f"{ws}/Tasks/{task_sid}")).status_code == 200
        mine = (await alice.get(f"{ws}/Workers/{center.alice.sid}/Reservations")).json()["reservations"]
        assert [r["sid"] for r in mine] == [offer["sid"]]
        accepted = await alice.post(f"{ws}/Workers/{center.alice.sid}/Reservations/{offer['sid']}",
                                    data={"ReservationStatus": "accepted"})
        assert (accepted.status_code, accepted.json()["reservation_status"]) == (200, "accepted"), accepted.text
        forbidden(await alice.post(f"{ws}/Workers/{center.alice.sid}/Reservations/{offer['sid']}",
                                   data={"ReservationStatus": "canceled"}))

        # Reads an agent may make, and those it may not.
        for path in (f"{ws}/Activities", f"{ws}/TaskQueues", f"{ws}/TaskChannels", f"{ws}/Workers/{center.alice.sid}"):
            assert (await alice.get(path)).status_code == 200, path
        for path in (f"{ws}/Tasks", f"{ws}/Statistics", f"{ws}/Workflows", f"{ws}/Events",
                     f"{ws}/Workers/{center.bob.sid}", "/taskrouter/v1/Workspaces"):
            forbidden(await alice.get(path))
        # Her colleagues, as a roster to transfer to or invite: names and availability, not their attributes.
        roster = (await alice.get(f"{ws}/Workers")).json()["workers"]
        assert {w["sid"]: w["friendly_name"] for w in roster}[center.bob.sid] == "Bob"
        assert all("attributes" not in w and "available" in w for w in roster)
        forbidden(await alice.get(f"{ws}/Workers", params={"TargetWorkersExpression": "skills HAS 'support'"}))
        forbidden(await alice.post(f"{ws}/Tasks", data={"WorkflowSid": center.workflow_sid, "Attributes": "{}"}))

        # On the interaction's channel: Bob may not wrap Alice up; Alice may, then completes her task.
        channel_url = f"/flex-api/v1/Interactions/{created['sid']}/Channels/{created['channel']['sid']}"
        participants = (await alice.get(f"{channel_url}/Participants")).json()["participants"]
        own = next(p for p in participants if p["type"] == "agent")
        forbidden(await bob.post(f"{channel_url}/Participants/{own['sid']}", data={"Status": "wrapup"}))
        # Ending the chat is the holder's alone, and only without routing (that stays the business's call).
        forbidden(await bob.post(channel_url, data={"Status": "closed"}))
        forbidden(await alice.post(channel_url, data={"Status": "closed", "Routing": '{"status": "closed"}'}))
        wrapped = await alice.post(f"{channel_url}/Participants/{own['sid']}", data={"Status": "wrapup"})
        assert wrapped.status_code == 200, wrapped.text
        assert (await center.task(task_sid))["assignment_status"] == "wrapping"
        forbidden(await alice.post(f"{ws}/Tasks/{task_sid}", data={"Priority": "100"}))
        completed = await alice.post(f"{ws}/Tasks/{task_sid}", data={"AssignmentStatus": "completed"})
        assert (completed.status_code, completed.json()["assignment_status"]) == (200, "completed"), completed.text


async def test_a_supervisor_reads_the_workspace_but_acts_only_as_itself(center: ContactCenter) -> None:
    ws = center.ws
    async with await agent_token(center, center.alice, "supervisor") as alice:
        for path in (f"{ws}/Workers", f"{ws}/Tasks", f"{ws}/Statistics", f"{ws}/Workers/{center.bob.sid}",
                     f"{ws}/Workers/Statistics", f"{ws}/TaskQueues/{center.queue_sid}/Statistics"):
            response = await alice.get(path)
            assert response.status_code == 200, (path, response.text)
        changed = await alice.post(f"{ws}/Workers/{center.alice.sid}", data={"Attributes": '{"skills": ["sales"]}'})
        assert changed.status_code == 200, changed.text
        forbidden(await alice.post(f"{ws}/Workers/{center.bob.sid}", data={"ActivitySid": center.available_sid}))
        forbidden(await alice.delete(f"{ws}/Workers/{center.bob.sid}"))
        # Another workspace is not the grant's.
        other: dict[str, Any] = await center.post("/taskrouter/v1/Workspaces", {"FriendlyName": "Other"}, status=201)
        forbidden(await alice.get(f"/taskrouter/v1/Workspaces/{other['sid']}/Activities"))


class TokenHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The twilio library's own HTTP client, sending an access token instead of the Basic credentials it is given."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    async def request(self, method: str, url: str, params: Any = None, data: Any = None, headers: Any = None,
                      auth: Any = None, timeout: Any = None, allow_redirects: bool = False) -> Any:
        return await super().request(method, url, params=params, data=data,
                                     headers={**(headers or {}), "X-Twilio-Token": self.token}, auth=None,
                                     timeout=timeout, allow_redirects=allow_redirects)


async def test_the_twilio_library_drives_an_agents_own_worker_with_its_token(center: ContactCenter) -> None:
    async with await agent_token(center, center.alice) as alice:
        token = alice.headers["X-Twilio-Token"]
    client = Client(center.parley.account.sid, "not-sent", http_client=TokenHttpClient(token))
    client.taskrouter.base_url = f"{center.parley.base_url}/taskrouter"
    try:
        me = client.taskrouter.v1.workspaces(center.workspace_sid).workers(center.alice.sid)
        updated = await me.update_async(activity_sid=center.available_sid)
        assert (updated.activity_sid, updated.available) == (center.available_sid, True)
        assert (await me.fetch_async()).friendly_name == "Alice"
        with pytest.raises(TwilioRestException) as refused:
            await client.taskrouter.v1.workspaces(center.workspace_sid).workers(center.bob.sid).update_async(
                activity_sid=center.available_sid)
        assert (refused.value.status, refused.value.code) == (403, 20403)
    finally:
        await client.http_client.close()  # type: ignore[attr-defined]


async def test_an_agent_refreshes_its_token_with_its_token_and_cannot_widen_it(center: ContactCenter) -> None:
    async with await agent_token(center, center.alice) as alice:
        refreshed = await alice.post("/parley/v1/AccessTokens", data={"WorkerSid": center.bob.sid, "Ttl": "600"})
        assert refreshed.status_code == 201, refreshed.text
        assert (refreshed.json()["identity"], refreshed.json()["ttl"]) == ("alice", 600)
    async with httpx.AsyncClient(base_url=center.parley.base_url, timeout=30,
                                 headers={"Authorization": f"Bearer {refreshed.json()['token']}"}) as fresh:
        # Still Alice's worker only: the WorkerSid asked for was ignored.
        forbidden(await fresh.post(f"{center.ws}/Workers/{center.bob.sid}", data={"ActivitySid": center.available_sid}))
        mine = await fresh.post(f"{center.ws}/Workers/{center.alice.sid}", data={"ActivitySid": center.available_sid})
        assert mine.status_code == 200, mine.text
    guest = (await center.post("/ingress/webchat/tokens", {"Identity": "guest-zed"}, status=201))["token"]
    async with httpx.AsyncClient(base_url=center.parley.base_url, headers={"X-Twilio-Token": guest}) as zed:
        assert (await zed.post("/parley/v1/AccessTokens", data={})).status_code == 401  # not an agent
