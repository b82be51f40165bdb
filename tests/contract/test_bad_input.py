"""Bad input at the edges: every bad request is a clean 4xx that changes nothing, and never breaks the connection.

Each case here is one the schemathesis contract run (test_twilio_contract.py) once found answering 5xx.
"""

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from shared.forms import JSON_MAX_DEPTH, LARGEST_INTEGER
from tests.support.parley import RunningParley
from tests.support.realtime import receive, ws_url

TOO_DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
CHALLENGE = 'Basic realm="Twilio API"'


def assert_twilio_error(response: httpx.Response, status: int = 400, code: int = 20001) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["message"] and body["more_info"].endswith(str(code))


async def workspace(client: httpx.AsyncClient, name: str = "Support") -> dict[str, Any]:
    response = await client.post("/taskrouter/v1/Workspaces", data={"FriendlyName": name})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def chat_address(client: httpx.AsyncClient) -> str:
    response = await client.post("/conversations/v1/Configuration/Addresses", data={
        "Type": "chat", "Address": "webchat-edge", "FriendlyName": "Website chat", "AutoCreation.Enabled": "true",
        "AutoCreation.Type": "default",
    })
    assert response.status_code == 201, response.text
    return str(response.json()["sid"])


async def conversation_count(client: httpx.AsyncClient) -> int:
    response = await client.get("/conversations/v1/Conversations")
    assert response.status_code == 200, response.text
    return len(response.json()["conversations"])


async def test_json_nested_deeper_than_the_cap_is_refused_wherever_a_json_parameter_goes(parley: RunningParley) -> None:
    nested_ok = "[" * JSON_MAX_DEPTH + "]" * JSON_MAX_DEPTH
    async with parley.client() as client:
        for attributes in (TOO_DEEP, DEEP_OBJECT):
            assert_twilio_error(await client.post("/conversations/v1/Conversations", data={"Attributes": attributes}))
        assert await conversation_count(client) == 0
        space = await workspace(client)
        assert_twilio_error(await client.post(f"/taskrouter/v1/Workspaces/{space['sid']}/Workers",
                                              data={"FriendlyName": "Ada", "Attributes": DEEP_OBJECT}))
        # A JSON body (Flex Configuration) is bounded the same way.
        assert_twilio_error(await client.post("/flex-api/v1/Configuration", content=TOO_DEEP,
                                              headers={"Content-Type": "application/json"}))
        # A JSON string that merely mentions brackets is not nesting.
        brackets = json.dumps({"note": "[" * 1000})
        created = await client.post("/conversations/v1/Conversations", data={"Attributes": brackets})
        assert created.status_code == 201, created.text
        at_the_cap = await client.post("/conversations/v1/Conversations",
                                       data={"Attributes": json.dumps({"deep": json.loads(nested_ok[1:-1] or "[]")})})
        assert at_the_cap.status_code == 201, at_the_cap.text
        address_sid = await chat_address(client)

    async with httpx.AsyncClient(base_url=parley.base_url, timeout=30) as anonymous:  # the widget: no credentials
        refused = await anonymous.post("/flex-api/v2/WebChats",
                                       data={"AddressSid": address_sid, "PreEngagementData": DEEP_OBJECT})
        assert_twilio_error(refused)


async def test_a_nul_byte_in_any_form_field_is_refused_at_the_edge_before_anything_is_published(
    parley: RunningParley,
) -> None:
    async with parley.client() as client:
        address_sid = await chat_address(client)
        assert_twilio_error(await client.post("/conversations/v1/Conversations", data={"FriendlyName": "a\x00b"}))
        assert_twilio_error(await client.get("/conversations/v1/Conversations", params={"PageToken": "\x00"}))
    async with httpx.AsyncClient(base_url=parley.base_url, timeout=30) as anonymous:
        for field in ("ChatFriendlyName", "CustomerFriendlyName", "PreEngagementData"):
            value = '{"name": "a\x00b"}' if field == "PreEngagementData" else "Ada\x00"
            assert_twilio_error(await anonymous.post("/flex-api/v2/WebChats",
                                                     data={"AddressSid": address_sid, field: value}))
        # The barrier: a good start goes the same way; it is the only chat ever started, and nothing was parked.
        started = await anonymous.post("/flex-api/v2/WebChats", data={"AddressSid": address_sid,
                                                                         "ChatFriendlyName": "Ada"})
        assert started.status_code == 201, started.text
    async with parley.client() as client:
        assert await conversation_count(client) == 1
        dead = await client.get("/parley/v1/DeadLetters")
        assert dead.status_code == 200 and dead.json()["dead_letters"] == [], dead.text


async def test_an_empty_friendly_name_on_a_workspace_or_worker_update_is_refused(parley: RunningParley) -> None:
    async with parley.client() as client:
        space = await workspace(client)
        base = f"/taskrouter/v1/Workspaces/{space['sid']}"
        assert_twilio_error(await client.post(base, data={"FriendlyName": ""}))
        created = await client.post(f"{base}/Workers", data={"FriendlyName": "Ada"})
        assert created.status_code == 201, created.text
        assert_twilio_error(await client.post(f"{base}/Workers/{created.json()['sid']}", data={"FriendlyName": ""}))
        assert (await client.get(base)).json()["friendly_name"] == "Support"
        assert (await client.get(f"{base}/Workers/{created.json()['sid']}")).json()["friendly_name"] == "Ada"


async def test_minutes_beyond_the_calendar_mean_since_the_beginning_on_every_statistics_endpoint(
    parley: RunningParley,
) -> None:
    async with parley.client() as client:
        space = await workspace(client)
        base = f"/taskrouter/v1/Workspaces/{space['sid']}"
        queue = await client.post(f"{base}/TaskQueues", data={"FriendlyName": "Sales"})
        worker = await client.post(f"{base}/Workers", data={"FriendlyName": "Ada"})
        assert queue.status_code == worker.status_code == 201
        paths = [f"{base}/Statistics", f"{base}/CumulativeStatistics", f"{base}/Workers/Statistics",
                 f"{base}/Workers/CumulativeStatistics", f"{base}/TaskQueues/Statistics",
                 f"{base}/TaskQueues/{queue.json()['sid']}/Statistics",
                 f"{base}/TaskQueues/{queue.json()['sid']}/CumulativeStatistics",
                 f"{base}/Workers/{worker.json()['sid']}/Statistics", f"{base}/Events"]
        for path in paths:
            for minutes in ("137418785616", "9" * 30):
                response = await client.get(path, params={"Minutes": minutes})
                if minutes == "9" * 30 and response.status_code == 400:
                    continue  # too large to be a number of minutes at all: refused is as good
                assert response.status_code == 200, (path, response.text)
        statistics = (await client.get(f"{base}/CumulativeStatistics", params={"Minutes": "137418785616"})).json()
        assert statistics["start_time"] == "1970-01-01T00:00:00Z"


async def test_an_integer_beyond_what_parley_stores_is_refused_in_filters_and_updates(parley: RunningParley) -> None:
    too_big = str(LARGEST_INTEGER + 1)
    async with parley.client() as client:
        space = await workspace(client)
        tasks = f"/taskrouter/v1/Workspaces/{space['sid']}/Tasks"
        assert_twilio_error(await client.get(tasks, params={"Priority": "6467794300"}))
        assert (await client.get(tasks, params={"Priority": str(LARGEST_INTEGER)})).status_code == 200
        conversation = await client.post("/conversations/v1/Conversations")
        base = f"/conversations/v1/Conversations/{conversation.json()['sid']}"
        participant = await client.post(f"{base}/Participants", data={"Identity": "ada"})
        assert participant.status_code == 201, participant.text
        at = f"{base}/Participants/{participant.json()['sid']}"
        assert_twilio_error(await client.post(at, data={"LastReadMessageIndex": too_big}))
        assert (await client.get(at)).json()["last_read_message_index"] is None
        assert_twilio_error(await client.post(f"{base}/Webhooks", data={
            "Target": "webhook", "Configuration.Url": "http://127.0.0.1:9/", "Configuration.ReplayAfter": too_big}))
        assert (await client.get(f"{base}/Webhooks")).json()["webhooks"] == []


async def test_a_messaging_binding_no_provider_could_send_to_is_refused_before_any_send(parley: RunningParley) -> None:
    async with parley.client() as client:
        conversation = await client.post("/conversations/v1/Conversations")
        base = f"/conversations/v1/Conversations/{conversation.json()['sid']}/Participants"
        for address, proxy in (("rcs:+15017122661", "rcs:+15558675311"), ("+15550001111", "messenger:parley"),
                               ("whatsapp:+15550001111", "+15550002222"), ("+1555 0001111", "+15550002222")):
            assert_twilio_error(await client.post(base, data={
                "MessagingBinding.Address": address, "MessagingBinding.ProxyAddress": proxy}), code=50402)
        assert_twilio_error(await client.post("/conversations/v1/ConversationWithParticipants", data={
            "Participant": json.dumps({"messaging_binding": {"address": "rcs:+1501", "proxy_address": "+1555"}})}),
            code=50402)
        customer = await client.post(base, data={"MessagingBinding.Address": "+15550001111",
                                                 "MessagingBinding.ProxyAddress": "+15550002222"})
        assert customer.status_code == 201, customer.text
        assert_twilio_error(await client.post(f"{base}/{customer.json()['sid']}", data={
            "MessagingBinding.ProxyAddress": "whatsapp:+15550002222"}), code=50402)
        participants = (await client.get(base)).json()["participants"]
        assert [p["messaging_binding"]["proxy_address"] for p in participants] == ["+15550002222"]
        assert await conversation_count(client) == 1


async def test_extreme_dates_are_refused_and_the_widest_accepted_ones_stored(parley: RunningParley) -> None:
    async with parley.client() as client:
        extremes = ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z",
                    "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z")
        for extreme in extremes:
            assert_twilio_error(await client.post("/conversations/v1/Conversations", data={"DateCreated": extreme}))
            assert_twilio_error(await client.get("/conversations/v1/Conversations", params={"StartDate": extreme}))
        assert await conversation_count(client) == 0
        created = await client.post("/conversations/v1/Conversations",
                                    data={"DateCreated": "1970-01-01T00:00:00Z", "DateUpdated": "9999-12-30T23:59:59Z"})
        assert created.status_code == 201, created.text
        assert (created.json()["date_created"], created.json()["date_updated"]) == (
            "1970-01-01T00:00:00Z", "9999-12-30T23:59:59Z")
        listed = await client.get("/conversations/v1/Conversations",
                                  params={"StartDate": "1970-01-01", "EndDate": "9999-12-30"})
        assert listed.status_code == 200 and len(listed.json()["conversations"]) == 1, listed.text
        space = await workspace(client)
        base = f"/taskrouter/v1/Workspaces/{space['sid']}"
        for path in (f"{base}/CumulativeStatistics", f"{base}/Events"):
            for extreme in extremes:
                assert_twilio_error(await client.get(path, params={"StartDate": extreme}))
                assert_twilio_error(await client.get(path, params={"EndDate": extreme}))
            widest = await client.get(path, params={"StartDate": "1970-01-01T00:00:00Z", "EndDate": "9999-12-30"})
            assert widest.status_code == 200, (path, widest.text)


def connection_of(response: httpx.Response) -> object:
    return response.extensions["network_stream"]


async def test_after_an_error_answer_the_same_keep_alive_connection_serves_the_next_request(
    parley: RunningParley,
) -> None:
    async def fails() -> None:
        raise RuntimeError("a fault no handler knows")

    parley.runtime.app.add_api_route("/test-only/fails", fails)  # a real 500 path through the real server
    one_connection = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
    async with httpx.AsyncClient(base_url=parley.base_url, transport=one_connection,
                                 auth=(parley.account.sid, parley.account.auth_token), timeout=30) as client:
        failed = await client.get("/test-only/fails")
        assert_twilio_error(failed, 500, 20500)
        after_500 = await client.get("/taskrouter/v1/Workspaces")
        assert after_500.status_code == 200, after_500.text
        assert connection_of(after_500) is connection_of(failed)
        refused = await client.post("/conversations/v1/Conversations", data={"Attributes": TOO_DEEP})
        assert_twilio_error(refused)
        after_400 = await client.get("/taskrouter/v1/Workspaces")
        assert after_400.status_code == 200
        assert connection_of(after_400) is connection_of(failed)


async def test_basic_or_no_credentials_get_twilios_challenge_and_urllib_signs_in_with_it(parley: RunningParley) -> None:
    async with httpx.AsyncClient(base_url=parley.base_url, timeout=30) as client:
        none = await client.get("/taskrouter/v1/Workspaces")
        wrong = await client.get("/taskrouter/v1/Workspaces", auth=(parley.account.sid, "wrong"))
        bad_token = await client.get("/conversations/v1/Conversations", headers={"X-Twilio-Token": "not.a.jwt"})
        bearer = await client.get("/conversations/v1/Conversations", headers={"Authorization": "Bearer not.a.jwt"})
        sign_in = await client.post("/parley/v1/AccessTokens", data={"AccountSid": parley.account.sid,
                                                                        "Email": "nobody@example.com", "Password": "x"})
    for answer in (none, wrong):
        assert_twilio_error(answer, 401, 20003)
        assert answer.headers["www-authenticate"] == CHALLENGE
    for answer in (bad_token, bearer, sign_in):
        assert answer.status_code == 401, answer.text
        assert "www-authenticate" not in answer.headers  # Chromium would show its own login dialog

    def fetch_with_challenge_first_client() -> tuple[int, Any]:
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, parley.base_url, parley.account.sid, parley.account.auth_token)
        opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(passwords))
        with opener.open(f"{parley.base_url}/taskrouter/v1/Workspaces", timeout=30) as answer:
            return answer.status, json.loads(answer.read())

    status, body = await asyncio.to_thread(fetch_with_challenge_first_client)
    assert status == 200 and body["workspaces"] == []

    def without_credentials() -> int:
        try:
            urllib.request.urlopen(f"{parley.base_url}/taskrouter/v1/Workspaces", timeout=30)
        except urllib.error.HTTPError as error:
            return error.code
        return 200

    assert await asyncio.to_thread(without_credentials) == 401


async def test_the_flex_configuration_takes_twilios_documented_body_with_the_accounts_own_sid(
    parley: RunningParley,
) -> None:
    async with parley.client() as client:
        own = await client.post("/flex-api/v1/Configuration", json={
            "account_sid": parley.account.sid, "ui_attributes": {"theme": "dark"}})
        assert own.status_code == 200, own.text
        assert own.json()["account_sid"] == parley.account.sid
        assert own.json()["ui_attributes"] == {"theme": "dark"}
        other = await client.post("/flex-api/v1/Configuration", json={
            "account_sid": "AC" + "0" * 32, "ui_attributes": {"theme": "light"}})
        assert_twilio_error(other)
        assert (await client.get("/flex-api/v1/Configuration")).json()["ui_attributes"] == {"theme": "dark"}


async def token_for(parley: RunningParley, identity: str) -> str:
    async with parley.client() as client:
        response = await client.post("/parley/v1/AccessTokens", data={"Identity": identity})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


async def test_a_websocket_binary_frame_is_closed_with_1003_and_a_deep_json_frame_answered_with_an_error(
    parley: RunningParley,
) -> None:
    async with connect(ws_url(parley, token=await token_for(parley, "ada"))) as ws:
        assert (await receive(ws))["type"] == "connected"
        await ws.send('{"type": "ping", "x": ' + TOO_DEEP + "}")
        error = await receive(ws)
        assert (error["type"], error["status"], error["code"]) == ("error", 400, 20001)
        await ws.send(json.dumps({"type": "ping"}))
        assert (await receive(ws))["type"] == "pong"  # the socket lives on
        await ws.send(b"\x00\x01binary")
        with pytest.raises(ConnectionClosed):
            await receive(ws)
        assert ws.close_code == 1003  # a close frame with a code, not a dropped connection

    async with connect(ws_url(parley)) as unauthenticated:  # the auth message is the first frame
        await unauthenticated.send(b"binary")
        refusal = await receive(unauthenticated)
        assert (refusal["type"], refusal["status"]) == ("error", 401)
        with pytest.raises(ConnectionClosed):
            await receive(unauthenticated)
        assert unauthenticated.close_code == 4001
