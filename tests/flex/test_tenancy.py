"""One installation, two businesses: nothing one account names or signs in with reaches into another's.

A reference to another account's workspace, worker, chat service or flow is refused when it is made (404
20404, exactly as a SID that names nothing); a token naming another account's worker learns nothing of that
worker's tasks; agent emails are unique per account, and sign-in names the account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import TaskRouterGrant

from services.conversations.app import SERVICE as CONVERSATIONS
from shared.settings import Settings
from shared.sids import new_sid
from tests.conftest import StartParley
from tests.flex.conftest import ContactCenter
from tests.flex.test_flows import greeting_flow
from tests.support.waiting import eventually
from tests.support.workspace_client import SupportWorkspace, create, set_up_support_workspace
from tests.webhooks.accounts import client_as, create_subaccount

AGENTS = "/parley/v1/Agents"
TOKENS = "/parley/v1/AccessTokens"
ADDRESSES = "/conversations/v1/Configuration/Addresses"
PASSWORD = "correct horse battery"


@dataclass
class OtherBusiness:
    """A second account with a workspace, a chat service and a flow of its own."""

    sid: str
    http: httpx.AsyncClient
    support: SupportWorkspace
    chat_service_sid: str
    flow_sid: str


@pytest.fixture
async def other(center: ContactCenter) -> Any:
    credentials = await create_subaccount(center.parley)
    async with client_as(center.parley, credentials) as http:
        support = await set_up_support_workspace(http, name="Elsewhere")
        service = await create(http, "/conversations/v1/Services", {"FriendlyName": "Elsewhere chat"})
        flow = await create(http, "/parley/v1/Flows", {"FriendlyName": "Elsewhere flow",
                                                       "Definition": json.dumps(greeting_flow(support.workflow_sid))})
        yield OtherBusiness(sid=credentials[0], http=http, support=support, chat_service_sid=service["sid"],
                            flow_sid=flow["sid"])


def not_found(response: httpx.Response) -> tuple[int, int]:
    return response.status_code, response.json()["code"]


async def own_chat_service(center: ContactCenter) -> str:
    return str((await center.post("/conversations/v1/Services", {"FriendlyName": "Ours"}, status=201))["sid"])


async def test_an_agent_naming_another_accounts_workspace_worker_or_chat_service_is_not_found(
    center: ContactCenter, other: OtherBusiness
) -> None:
    ours = {"WorkspaceSid": center.workspace_sid, "WorkerSid": center.alice.sid,
            "ChatServiceSid": await own_chat_service(center)}
    theirs = [{"WorkspaceSid": other.support.workspace_sid},
              {"WorkspaceSid": center.workspace_sid, "WorkerSid": other.support.workers["alice"]},
              {"ChatServiceSid": other.chat_service_sid}]
    nothing = [{"WorkspaceSid": new_sid("WS")}, {"WorkspaceSid": center.workspace_sid, "WorkerSid": new_sid("WK")},
               {"ChatServiceSid": new_sid("IS")}]
    for foreign, absent in zip(theirs, nothing, strict=True):
        refused = await center.http.post(AGENTS, data={"Identity": "alice", **foreign})
        assert not_found(refused) == (404, 20404), refused.text
        assert not_found(await center.http.post(AGENTS, data={"Identity": "alice", **absent})) == (404, 20404)
    # A worker of ours, but not of the workspace named: also nothing of that workspace.
    their_workspace = {"WorkspaceSid": other.support.workspace_sid, "WorkerSid": center.alice.sid}
    assert not_found(await center.http.post(AGENTS, data={"Identity": "alice", **their_workspace})) == (404, 20404)
    assert (await center.get(AGENTS))["agents"] == []

    agent = await center.post(AGENTS, {"Identity": "alice", **ours}, status=201)
    assert (agent["workspace_sid"], agent["worker_sid"]) == (center.workspace_sid, center.alice.sid)

    # Updates are held to the same rule, and a refused one changes nothing.
    path = f"{AGENTS}/{agent['sid']}"
    for foreign in theirs:
        refused = await center.http.post(path, data={"FriendlyName": "Moved", **foreign})
        assert not_found(refused) == (404, 20404), refused.text
    unchanged = await center.get(path)
    assert {key: unchanged[key] for key in ("friendly_name", "workspace_sid", "worker_sid", "chat_service_sid")} == {
        "friendly_name": None, "workspace_sid": center.workspace_sid, "worker_sid": center.alice.sid,
        "chat_service_sid": ours["ChatServiceSid"]}
    moved = await center.post(path, {"WorkerSid": center.bob.sid, "FriendlyName": "Alice B."})
    assert (moved["worker_sid"], moved["friendly_name"]) == (center.bob.sid, "Alice B.")
    # Another account does not see the agent at all.
    assert not_found(await other.http.post(path, data={"FriendlyName": "Mine now"})) == (404, 20404)


async def test_the_account_naming_another_accounts_sids_in_a_token_is_not_found(
    center: ContactCenter, other: OtherBusiness
) -> None:
    ours = {"WorkspaceSid": center.workspace_sid, "WorkerSid": center.alice.sid,
            "ChatServiceSid": await own_chat_service(center)}
    for foreign in ({"WorkspaceSid": other.support.workspace_sid},
                    {"WorkspaceSid": center.workspace_sid, "WorkerSid": other.support.workers["bob"]},
                    {"ChatServiceSid": other.chat_service_sid}):
        refused = await center.http.post(TOKENS, data={"Identity": "kiosk", **foreign})
        assert not_found(refused) == (404, 20404), refused.text
    issued = await center.post(TOKENS, {"Identity": "kiosk", **ours}, status=201)
    grants = jwt.decode(issued["token"], options={"verify_signature": False})["grants"]
    assert grants["task_router"] == {"workspace_sid": center.workspace_sid, "worker_sid": center.alice.sid}
    assert grants["chat"] == {"service_sid": ours["ChatServiceSid"]}


async def test_an_agents_own_references_reach_its_signed_in_token(center: ContactCenter) -> None:
    service = await own_chat_service(center)
    await center.post(AGENTS, {"Identity": "alice", "Email": "alice@example.com", "Password": PASSWORD,
                               "WorkspaceSid": center.workspace_sid, "WorkerSid": center.alice.sid,
                               "ChatServiceSid": service, "Roles": ["agent", "supervisor"]}, status=201)
    async with httpx.AsyncClient(base_url=center.parley.base_url) as browser:
        response = await browser.post(TOKENS, data={"AccountSid": center.parley.account.sid,
                                                    "Email": "alice@example.com", "Password": PASSWORD})
    assert response.status_code == 201, response.text
    assert jwt.decode(response.json()["token"], options={"verify_signature": False})["grants"] == {
        "identity": "alice", "chat": {"service_sid": service},
        "task_router": {"workspace_sid": center.workspace_sid, "worker_sid": center.alice.sid, "role": "supervisor"}}


async def test_a_studio_address_naming_another_accounts_flow_is_not_found(
    center: ContactCenter, other: OtherBusiness
) -> None:
    studio = {"Type": "sms", "Address": "+15550002222", "AutoCreation.Enabled": "true", "AutoCreation.Type": "studio"}
    for flow_sid in (other.flow_sid, new_sid("FW")):
        refused = await center.http.post(ADDRESSES, data={**studio, "AutoCreation.StudioFlowSid": flow_sid})
        assert not_found(refused) == (404, 20404), refused.text
    assert (await center.get(ADDRESSES))["address_configurations"] == []

    own = await create(center.http, "/parley/v1/Flows", {"FriendlyName": "Ours",
                                                         "Definition": json.dumps(greeting_flow(center.workflow_sid))})
    address = await center.post(ADDRESSES, {**studio, "AutoCreation.StudioFlowSid": own["sid"]}, status=201)
    refused = await center.http.post(f"{ADDRESSES}/{address['sid']}", data={
        "AutoCreation.StudioFlowSid": other.flow_sid, "FriendlyName": "Theirs"})
    assert not_found(refused) == (404, 20404), refused.text
    kept = await center.get(f"{ADDRESSES}/{address['sid']}")
    assert (kept["auto_creation"]["studio_flow_sid"], kept["friendly_name"]) == (own["sid"], address["friendly_name"])


async def test_a_token_naming_another_accounts_worker_learns_nothing_of_its_tasks(
    center: ContactCenter, other: OtherBusiness
) -> None:
    """Account B's worker holds a task; account A's own token server names that worker. Whatever A's token asks of
    B's task and reservation, it gets what it gets for SIDs that name nothing."""
    ws = f"/taskrouter/v1/Workspaces/{other.support.workspace_sid}"
    worker = other.support.workers["bob"]
    await other.http.post(f"{ws}/Workers/{worker}", data={"ActivitySid": other.support.activities["Available"]})
    task = await create(other.http, f"{ws}/Tasks", {"WorkflowSid": other.support.workflow_sid, "Attributes": "{}"})

    async def offered() -> list[dict[str, Any]]:
        found = (await other.http.get(f"{ws}/Tasks/{task['sid']}/Reservations")).json()["reservations"]
        return [r for r in found if r["worker_sid"] == worker and r["reservation_status"] == "pending"]

    reservation = (await eventually(offered, what="B's worker offered B's task"))[0]

    key = await create(center.http, f"/api/2010-04-01/Accounts/{center.parley.account.sid}/Keys.json",
                       {"FriendlyName": "token server"})
    minted = AccessToken(center.parley.account.sid, key["sid"], key["secret"], identity="mallory", ttl=600)
    minted.add_grant(TaskRouterGrant(workspace_sid=other.support.workspace_sid, worker_sid=worker, role="worker"))
    async with httpx.AsyncClient(base_url=center.parley.base_url, headers={"X-Twilio-Token": minted.to_jwt()}) as a:
        async def answers(task_sid: str, reservation_sid: str) -> list[tuple[int, Any]]:
            responses = [
                await a.get(f"{ws}/Tasks/{task_sid}"),
                await a.get(f"{ws}/Tasks/{task_sid}/Reservations/{reservation_sid}"),
                await a.post(f"{ws}/Tasks/{task_sid}/Reservations/{reservation_sid}",
                             data={"ReservationStatus": "accepted"}),
                await a.post(f"{ws}/Tasks/{task_sid}", data={"AssignmentStatus": "completed"}),
            ]
            return [(response.status_code, response.json().get("code")) for response in responses]

        theirs = await answers(task["sid"], reservation["sid"])
        assert theirs == await answers(new_sid("WT"), new_sid("WR"))
        assert all(status in (403, 404) for status, _ in theirs), theirs
    # And nothing moved in B's contact center.
    assert (await offered())[0]["sid"] == reservation["sid"]


async def test_agent_emails_are_unique_per_account_and_sign_in_names_the_account(
    center: ContactCenter, other: OtherBusiness
) -> None:
    ours, theirs = center.parley.account.sid, other.sid
    await center.post(AGENTS, {"Identity": "ana", "Email": "ana@example.com", "Password": "ours " + PASSWORD},
                      status=201)
    await create(other.http, AGENTS, {"Identity": "ana-b", "Email": "Ana@Example.com", "Password": "theirs " + PASSWORD})
    await center.post(AGENTS, {"Identity": "solo", "Email": "solo@example.com", "Password": PASSWORD}, status=201)
    again = await center.http.post(AGENTS, data={"Identity": "ana-2", "Email": "ANA@example.com",
                                                 "Password": PASSWORD})
    assert (again.status_code, again.json()["code"]) == (409, 90201)

    async with httpx.AsyncClient(base_url=center.parley.base_url) as browser:
        async def sign_in(account_sid: str, email: str, password: str) -> httpx.Response:
            return await browser.post(TOKENS, data={"AccountSid": account_sid, "Email": email, "Password": password})

        mine = await sign_in(ours, "ana@example.com", "ours " + PASSWORD)
        yours = await sign_in(theirs, "ana@example.com", "theirs " + PASSWORD)
        assert (mine.status_code, yours.status_code) == (201, 201), (mine.text, yours.text)
        assert (mine.json()["account_sid"], mine.json()["identity"]) == (ours, "ana")
        assert (yours.json()["account_sid"], yours.json()["identity"]) == (theirs, "ana-b")

        # Another account's password, an email only another account has, an unknown email, an unknown account:
        # one answer, so none tells that the email exists elsewhere.
        refusals = [await sign_in(theirs, "ana@example.com", "ours " + PASSWORD),
                    await sign_in(theirs, "solo@example.com", PASSWORD),
                    await sign_in(theirs, "nobody@example.com", PASSWORD),
                    await sign_in(new_sid("AC"), "solo@example.com", PASSWORD)]
        assert {(r.status_code, r.text) for r in refusals} == {
            (401, json.dumps({"code": 20003, "message": "Authenticate",
                              "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401},
                             separators=(",", ":")))}

        missing = await browser.post(TOKENS, data={"Email": "ana@example.com", "Password": "ours " + PASSWORD})
        assert (missing.status_code, missing.json()["code"]) == (400, 20001)
        assert "AccountSid" in missing.json()["message"]
        malformed = await sign_in("not-an-account", "ana@example.com", "ours " + PASSWORD)
        assert (malformed.status_code, malformed.json()["code"]) == (400, 20001)


async def test_a_reference_check_the_owner_does_not_answer_is_a_503_and_saves_nothing(
    launch: StartParley, settings: Settings
) -> None:
    """The router is not running: nobody can say whose the workspace is, so the agent is neither saved nor refused
    as not found."""
    parley = await launch([CONVERSATIONS], settings=settings.model_copy(update={"reference_check_timeout_seconds": 0.5}))
    async with parley.client() as http:
        response = await http.post(AGENTS, data={"Identity": "alice", "WorkspaceSid": new_sid("WS")})
        assert (response.status_code, response.json()["code"]) == (503, 20503), response.text
        assert (await http.get(AGENTS)).json()["agents"] == []
