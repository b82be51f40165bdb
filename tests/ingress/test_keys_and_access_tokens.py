"""API keys (`Keys.json`), agents and access tokens: Twilio-format JWTs Parley mints, and ones Twilio's helper mints."""

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant, TaskRouterGrant

from shared import access_tokens
from shared.auth.accounts import AccountDirectory
from shared.crypto import box_of
from shared.db import create_pool
from shared.settings import Settings
from shared.sids import new_sid
from tests.support.parley import RunningParley

KEYS = "/api/2010-04-01/Accounts/{}/Keys.json"


@pytest.fixture
async def directory(ingress: RunningParley, settings: Settings) -> AsyncIterator[AccountDirectory]:
    """The accounts and keys as another service's process would see them."""
    pool = await create_pool(settings.database_url, schema=settings.schema_name("accounts"), max_size=2)
    yield AccountDirectory(pool, box_of(settings.secret_key))
    await pool.close()


async def create_key(ingress: RunningParley, name: str = "token server") -> dict[str, Any]:
    async with ingress.client() as client:
        response = await client.post(KEYS.format(ingress.account.sid), data={"FriendlyName": name})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_api_keys_are_created_listed_updated_and_deleted_and_authenticate_like_the_account(
    ingress: RunningParley,
) -> None:
    key = await create_key(ingress)
    assert key["sid"].startswith("SK") and len(key["secret"]) >= 32
    assert key["friendly_name"] == "token server"
    base = ingress.base_url
    async with ingress.client() as client:
        listed = (await client.get(KEYS.format(ingress.account.sid))).json()
        assert [item["sid"] for item in listed["keys"]] == [key["sid"]]
        assert "secret" not in listed["keys"][0]
        path = f"/api/2010-04-01/Accounts/{ingress.account.sid}/Keys/{key['sid']}.json"
        fetched = (await client.get(path)).json()
        assert (fetched["sid"], "secret" in fetched) == (key["sid"], False)
        renamed = await client.post(path, data={"FriendlyName": "renamed"})
        assert renamed.json()["friendly_name"] == "renamed"

    async with httpx.AsyncClient(base_url=base, auth=(key["sid"], key["secret"])) as as_key:
        assert (await as_key.get("/parley/v1/Providers")).status_code == 200
        assert (await as_key.get(f"/api/2010-04-01/Accounts/{ingress.account.sid}.json")).status_code == 403
    async with httpx.AsyncClient(base_url=base, auth=(key["sid"], "wrong-secret")) as wrong:
        refused = await wrong.get("/parley/v1/Providers")
        assert (refused.status_code, refused.json()["code"]) == (401, 20003)

    async with ingress.client() as client:
        assert (await client.delete(path)).status_code == 204
        assert (await client.get(path)).status_code == 404
    async with httpx.AsyncClient(base_url=base, auth=(key["sid"], key["secret"])) as deleted:
        assert (await deleted.get("/parley/v1/Providers")).status_code == 401


async def test_a_key_of_another_account_is_not_found(ingress: RunningParley) -> None:
    async with ingress.client() as client:
        other = (await client.post("/api/2010-04-01/Accounts.json", data={"FriendlyName": "sub"})).json()
    key = await create_key(ingress)
    async with httpx.AsyncClient(base_url=ingress.base_url, auth=(other["sid"], other["auth_token"])) as client:
        response = await client.get(f"/api/2010-04-01/Accounts/{other['sid']}/Keys/{key['sid']}.json")
        assert response.status_code == 404
        response = await client.get(KEYS.format(ingress.account.sid))
        assert response.status_code == 404


async def test_an_agent_signs_in_with_its_account_email_and_password_and_gets_a_twilio_format_token(
    ingress: RunningParley, directory: AccountDirectory
) -> None:
    """(The grants an agent's references give its token: tests/flex/test_tenancy.py, where their owners run.)"""
    account = ingress.account.sid
    async with ingress.client() as client:
        created = await client.post("/parley/v1/Agents", data={
            "Identity": "alice", "FriendlyName": "Alice", "Email": "Alice@example.com", "Password": "correct horse",
            "Roles": ["agent", "supervisor"],
        })
        assert created.status_code == 201, created.text
        agent = created.json()
        assert agent["sid"].startswith("AG")
        assert "password" not in agent and "password_hash" not in agent
        assert agent["roles"] == ["agent", "supervisor"]
        assert (await client.post("/parley/v1/Agents", data={"Identity": "alice"})).status_code == 409

    async with httpx.AsyncClient(base_url=ingress.base_url) as anonymous:
        wrong = await anonymous.post("/parley/v1/AccessTokens", data={
            "AccountSid": account, "Email": "alice@example.com", "Password": "nope"})
        assert (wrong.status_code, wrong.json()["code"]) == (401, 20003)
        unknown = await anonymous.post("/parley/v1/AccessTokens", data={
            "AccountSid": account, "Email": "bob@example.com", "Password": "x"})
        assert unknown.status_code == 401
        no_account = await anonymous.post("/parley/v1/AccessTokens",
                                          data={"Email": "alice@example.com", "Password": "correct horse"})
        assert (no_account.status_code, no_account.json()["code"]) == (400, 20001)
        assert "AccountSid" in no_account.json()["message"]
        response = await anonymous.post("/parley/v1/AccessTokens", data={
            "AccountSid": account, "Email": "alice@example.com", "Password": "correct horse"})
    assert response.status_code == 201, response.text
    issued = response.json()
    token = issued["token"]
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["cty"]) == ("HS256", "twilio-fpa;v=1")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == issued["api_key_sid"] and claims["iss"].startswith("SK")
    assert claims["sub"] == account
    assert claims["grants"] == {"identity": "alice", "chat": {}}
    assert claims["exp"] - time.time() == pytest.approx(3600, abs=10)

    verified = await access_tokens.verify(token, directory.get_key)
    assert (verified.account_sid, verified.identity) == (account, "alice")


async def test_account_credentials_and_an_identity_get_a_token(ingress: RunningParley,
                                                               directory: AccountDirectory) -> None:
    async with ingress.client() as client:
        response = await client.post("/parley/v1/AccessTokens", data={"Identity": "kiosk-7", "Ttl": "600"})
        assert response.status_code == 201, response.text
        missing = await client.post("/parley/v1/AccessTokens", data={})
        assert missing.status_code == 400
    async with httpx.AsyncClient(base_url=ingress.base_url) as anonymous:
        assert (await anonymous.post("/parley/v1/AccessTokens", data={"Identity": "x"})).status_code == 401
    verified = await access_tokens.verify(response.json()["token"], directory.get_key)
    assert verified.identity == "kiosk-7"
    assert verified.expires_at - time.time() == pytest.approx(600, abs=10)


async def test_a_token_minted_by_twilios_helper_with_an_account_key_is_accepted(
    ingress: RunningParley, directory: AccountDirectory
) -> None:
    key = await create_key(ingress)
    token = AccessToken(ingress.account.sid, key["sid"], key["secret"], identity="agent-bob", ttl=3600)
    token.add_grant(ChatGrant(service_sid=new_sid("IS")))
    token.add_grant(TaskRouterGrant(workspace_sid=new_sid("WS"), worker_sid=new_sid("WK"), role="worker"))
    verified = await access_tokens.verify(token.to_jwt(), directory.get_key)
    assert (verified.account_sid, verified.identity, verified.key_sid) == (ingress.account.sid, "agent-bob", key["sid"])
    assert verified.grants.role == "worker"


async def test_a_wrong_forged_or_expired_token_is_refused(ingress: RunningParley, directory: AccountDirectory) -> None:
    key = await create_key(ingress)
    forged = AccessToken(ingress.account.sid, key["sid"], "not-the-secret-" + "0" * 32, identity="mallory")
    expired = AccessToken(ingress.account.sid, key["sid"], key["secret"], identity="late",
                          nbf=int(time.time()) - 7200, valid_until=int(time.time()) - 3600)
    other_account = AccessToken(new_sid("AC"), key["sid"], key["secret"], identity="elsewhere")
    unknown_key = AccessToken(ingress.account.sid, new_sid("SK"), key["secret"], identity="ghost")
    cases = [(forged.to_jwt(), 20101), (expired.to_jwt(), 20104), (other_account.to_jwt(), 20101),
             (unknown_key.to_jwt(), 20101), ("not.a.jwt", 20101)]
    for token, code in cases:
        with pytest.raises(access_tokens.AccessTokenRefused) as refused:
            await access_tokens.verify(token, directory.get_key)
        assert (refused.value.status, refused.value.code) == (401, code)
