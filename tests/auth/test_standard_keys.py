"""API keys are Twilio's Standard keys: every resource but Accounts and Keys, which only the auth token may use."""

import httpx

from tests.conftest import StartParley

ACCOUNTS = "/api/2010-04-01/Accounts"


async def test_a_key_is_refused_on_accounts_and_keys_while_the_auth_token_keeps_full_power(launch: StartParley) -> None:
    parley = await launch([])
    sid = parley.account.sid
    async with parley.client() as owner:
        key = (await owner.post(f"{ACCOUNTS}/{sid}/Keys.json", data={"FriendlyName": "ci"})).json()
        sub = (await owner.post(f"{ACCOUNTS}.json", data={"FriendlyName": "team"})).json()
    key_path = f"{ACCOUNTS}/{sid}/Keys/{key['sid']}.json"
    refused = [
        ("GET", f"{ACCOUNTS}/{sid}.json", {}),  # would show the auth token
        ("GET", f"{ACCOUNTS}.json", {}),
        ("POST", f"{ACCOUNTS}.json", {"FriendlyName": "minted by a key"}),
        ("POST", f"{ACCOUNTS}/{sub['sid']}.json", {"FriendlyName": "renamed by a key"}),
        ("POST", f"{ACCOUNTS}/{sub['sid']}.json", {"Status": "suspended"}),
        ("POST", f"{ACCOUNTS}/{sid}/Keys.json", {"FriendlyName": "minted by a key"}),
        ("GET", f"{ACCOUNTS}/{sid}/Keys.json", {}),
        ("GET", key_path, {}),
        ("POST", key_path, {"FriendlyName": "renamed by a key"}),
        ("DELETE", key_path, {}),
    ]
    async with httpx.AsyncClient(base_url=parley.base_url, auth=(key["sid"], key["secret"])) as as_key:
        for method, path, data in refused:
            response = await as_key.request(method, path, data=data or None)
            body = response.json()
            assert (response.status_code, body["code"], body["status"]) == (403, 20403, 403), (method, path)
            assert body["more_info"] == "https://www.twilio.com/docs/errors/20403"
            assert "auth_token" not in response.text
        assert (await as_key.get("/parley/v1/Agents")).status_code == 200  # everything else stays open to it
    async with httpx.AsyncClient(base_url=parley.base_url, auth=(key["sid"], "not-the-secret")) as wrong:
        response = await wrong.get(f"{ACCOUNTS}/{sid}.json")
        assert (response.status_code, response.json()["code"]) == (401, 20003)  # a bad key is told it is bad

    async with parley.client() as owner:  # nothing the key tried happened; the auth token still does it all
        keys = (await owner.get(f"{ACCOUNTS}/{sid}/Keys.json")).json()["keys"]
        assert [(k["sid"], k["friendly_name"]) for k in keys] == [(key["sid"], "ci")]
        accounts = (await owner.get(f"{ACCOUNTS}.json")).json()["accounts"]
        assert sorted((a["sid"], a["friendly_name"], a["status"]) for a in accounts) == sorted(
            [(sid, parley.account.friendly_name, "active"), (sub["sid"], "team", "active")])
        assert (await owner.get(f"{ACCOUNTS}/{sid}.json")).json()["auth_token"] == parley.account.auth_token
        assert (await owner.post(f"{ACCOUNTS}/{sub['sid']}.json", data={"Status": "suspended"})).status_code == 200
        assert (await owner.post(f"{ACCOUNTS}/{sid}/Keys.json")).status_code == 201
        assert (await owner.delete(key_path)).status_code == 204
