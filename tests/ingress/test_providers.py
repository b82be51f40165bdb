"""`/parley/v1/Providers`: create, list, fetch, update and delete provider connections, per account."""

import re
from typing import Any

import httpx
import pytest

from tests.ingress.carrier import CARRIER_ACCOUNT_SID, create_provider
from tests.support.parley import RunningParley

PATH = "/parley/v1/Providers"
NUMBER = "+15550001111"
WHATSAPP_NUMBER = "whatsapp:+15550001111"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def assert_twilio_error(response: httpx.Response, status: int, code: int, mentions: str = "") -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body == {"code": code, "message": body["message"], "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status}
    assert mentions in body["message"]
    return dict(body)


async def providers_of(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get(PATH)
    assert response.status_code == 200, response.text
    return list(response.json()["providers"])


async def test_created_provider_has_callback_urls_and_reads_back_the_same(ingress: RunningParley) -> None:
    async with ingress.client() as client:
        response = await client.post(PATH, data={
            "FriendlyName": "Main carrier", "Type": "twilio", "Addresses": [NUMBER, WHATSAPP_NUMBER],
            "ApiBaseUrl": "http://127.0.0.1:9/api", "Credentials.AccountSid": CARRIER_ACCOUNT_SID,
            "Credentials.AuthToken": "secret-auth-token",
        })
        assert response.status_code == 201, response.text
        created = response.json()
        fetched = await client.get(f"{PATH}/{created['sid']}")
    sid = created["sid"]
    assert re.fullmatch(r"PV[0-9a-f]{32}", sid)
    base = ingress.base_url
    assert created == {
        "sid": sid, "account_sid": ingress.account.sid, "friendly_name": "Main carrier", "type": "twilio",
        "addresses": [NUMBER, WHATSAPP_NUMBER], "api_base_url": "http://127.0.0.1:9/api",
        "inbound_url": f"{base}/ingress/providers/{sid}/messages",
        "status_callback_url": f"{base}/ingress/providers/{sid}/status",
        "date_created": created["date_created"], "date_updated": created["date_updated"],
        "url": f"{base}{PATH}/{sid}",
    }
    assert ISO_UTC.match(created["date_created"]) and ISO_UTC.match(created["date_updated"])
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_whatsapp_cloud_provider_is_called_at_its_whatsapp_url(ingress: RunningParley) -> None:
    async with ingress.client() as client:
        response = await client.post(PATH, data={
            "Type": "whatsapp_cloud", "Addresses": WHATSAPP_NUMBER, "Credentials.AccessToken": "meta-access",
            "Credentials.AppSecret": "meta-secret", "Credentials.VerifyToken": "meta-verify",
            "Credentials.PhoneNumberId": "1234567890",
        })
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["type"] == "whatsapp_cloud"
    assert body["api_base_url"] is None
    assert body["inbound_url"] == f"{ingress.base_url}/ingress/providers/{body['sid']}/whatsapp"


TWILIO_CREDENTIALS = {"Credentials.AccountSid": CARRIER_ACCOUNT_SID, "Credentials.AuthToken": "secret-auth-token"}


@pytest.mark.parametrize(("form", "mentions"), [
    ({"Addresses": NUMBER, **TWILIO_CREDENTIALS}, "Type"),
    ({"Type": "carrier-pigeon", "Addresses": NUMBER, **TWILIO_CREDENTIALS}, "Type"),
    ({"Type": "twilio", **TWILIO_CREDENTIALS}, "Addresses"),
    ({"Type": "twilio", "Addresses": "15550001111", **TWILIO_CREDENTIALS}, "15550001111"),
    ({"Type": "twilio", "Addresses": "+1 555 000 1111", **TWILIO_CREDENTIALS}, "+1 555 000 1111"),
    ({"Type": "twilio", "Addresses": "whatsapp:15550001111", **TWILIO_CREDENTIALS}, "whatsapp:15550001111"),
    ({"Type": "twilio", "Addresses": [NUMBER, "+0123"], **TWILIO_CREDENTIALS}, "+0123"),
    ({"Type": "twilio", "Addresses": NUMBER, "ApiBaseUrl": "ftp://carrier.example/api", **TWILIO_CREDENTIALS},
     "ApiBaseUrl"),
    ({"Type": "twilio", "Addresses": NUMBER, "ApiBaseUrl": "/relative/api", **TWILIO_CREDENTIALS}, "ApiBaseUrl"),
    ({"Type": "twilio", "Addresses": NUMBER, "ApiBaseUrl": "not a url", **TWILIO_CREDENTIALS}, "ApiBaseUrl"),
    ({"Type": "twilio", "Addresses": NUMBER, "Credentials.AccountSid": CARRIER_ACCOUNT_SID},
     "Credentials.AuthToken"),
    ({"Type": "twilio", "Addresses": NUMBER, "Credentials.AppSecret": "meta", **TWILIO_CREDENTIALS},
     "Credentials.AppSecret"),
])
async def test_bad_input_is_a_twilio_style_400_and_creates_nothing(
    ingress: RunningParley, form: dict[str, Any], mentions: str
) -> None:
    async with ingress.client() as client:
        response = await client.post(PATH, data=form)
        assert_twilio_error(response, 400, 20001, mentions)
        assert await providers_of(client) == []


async def test_an_address_belongs_to_only_one_provider_of_an_account(ingress: RunningParley) -> None:
    async with ingress.client() as client:
        first = await create_provider(client, NUMBER)
        refused = await client.post(PATH, data={"Type": "twilio", "Addresses": [WHATSAPP_NUMBER, NUMBER],
                                                **TWILIO_CREDENTIALS})
        assert_twilio_error(refused, 409, 90101, f"{NUMBER} is already served by provider {first['sid']}")
        # The refused create left nothing behind, not even its other address.
        assert [provider["sid"] for provider in await providers_of(client)] == [first["sid"]]

        second = await create_provider(client, WHATSAPP_NUMBER)
        taking = await client.post(f"{PATH}/{second['sid']}", data={"Addresses": [WHATSAPP_NUMBER, NUMBER]})
        assert_twilio_error(taking, 409, 90101, NUMBER)

        assert (await client.delete(f"{PATH}/{first['sid']}")).status_code == 204
        taken = await client.post(f"{PATH}/{second['sid']}", data={"Addresses": [WHATSAPP_NUMBER, NUMBER]})
        assert taken.status_code == 200, taken.text
        assert taken.json()["addresses"] == [WHATSAPP_NUMBER, NUMBER]


async def test_credentials_are_never_in_any_response(ingress: RunningParley) -> None:
    secrets = ["first-auth-token-0001", "rotated-auth-token-0002", CARRIER_ACCOUNT_SID, "meta-access-0003",
               "meta-secret-0004", "meta-verify-0005", "9988776655"]
    async with ingress.client() as client:
        responses = [await client.post(PATH, data={"Type": "twilio", "Addresses": NUMBER, **TWILIO_CREDENTIALS,
                                                   "Credentials.AuthToken": secrets[0]})]
        twilio_sid = responses[0].json()["sid"]
        responses.append(await client.post(PATH, data={
            "Type": "whatsapp_cloud", "Addresses": WHATSAPP_NUMBER, "Credentials.AccessToken": secrets[3],
            "Credentials.AppSecret": secrets[4], "Credentials.VerifyToken": secrets[5],
            "Credentials.PhoneNumberId": secrets[6],
        }))
        responses.append(await client.post(f"{PATH}/{twilio_sid}", data={"Credentials.AuthToken": secrets[1]}))
        responses.append(await client.get(f"{PATH}/{twilio_sid}"))
        responses.append(await client.get(f"{PATH}/{responses[1].json()['sid']}"))
        responses.append(await client.get(PATH))
    assert [response.status_code for response in responses] == [201, 201, 200, 200, 200, 200]
    for response in responses:
        assert not any(secret in response.text for secret in secrets), response.text
        assert "credentials" not in response.text.lower()


async def test_update_changes_the_given_fields_and_keeps_the_rest(ingress: RunningParley) -> None:
    async with ingress.client() as client:
        created = await create_provider(client, NUMBER, ApiBaseUrl="http://127.0.0.1:9/api")
        url = f"{PATH}/{created['sid']}"
        renamed = (await client.post(url, data={"FriendlyName": "Renamed"})).json()
        assert renamed == {**created, "friendly_name": "Renamed", "date_updated": renamed["date_updated"]}
        assert renamed["date_updated"] >= created["date_updated"]

        readdressed = (await client.post(url, data={"Addresses": [WHATSAPP_NUMBER]})).json()
        assert readdressed["addresses"] == [WHATSAPP_NUMBER]
        assert readdressed["friendly_name"] == "Renamed"

        cleared = (await client.post(url, data={"ApiBaseUrl": ""})).json()
        assert cleared["api_base_url"] is None

        assert_twilio_error(await client.post(url, data={"Type": "whatsapp_cloud"}), 400, 20001, "Type")
        assert_twilio_error(await client.post(url, data={"Addresses": "5550001111"}), 400, 20001, "5550001111")
        assert_twilio_error(await client.post(url, data={"Credentials.AuthToken": ""}), 400, 20001,
                            "Credentials.AuthToken")
        assert (await client.get(url)).json() == cleared


async def test_deleted_provider_is_gone(ingress: RunningParley) -> None:
    async with ingress.client() as client:
        created = await create_provider(client, NUMBER)
        url = f"{PATH}/{created['sid']}"
        deleted = await client.delete(url)
        assert deleted.status_code == 204
        assert deleted.content == b""
        assert_twilio_error(await client.get(url), 404, 20404)
        assert_twilio_error(await client.delete(url), 404, 20404)
        assert await providers_of(client) == []
        # Its address is free again.
        await create_provider(client, NUMBER)


async def test_list_pages_forward_and_back_by_keyset(ingress: RunningParley) -> None:
    async with ingress.client() as client:
        created = [await create_provider(client, f"+1555000200{n}") for n in range(5)]
        first = (await client.get(PATH, params={"PageSize": 2})).json()
        second = (await client.get(first["meta"]["next_page_url"])).json()
        third = (await client.get(second["meta"]["next_page_url"])).json()
        back = (await client.get(third["meta"]["previous_page_url"])).json()
    ordered = sorted(provider["sid"] for provider in created)
    assert [p["sid"] for p in first["providers"]] == ordered[:2]
    assert [p["sid"] for p in second["providers"]] == ordered[2:4]
    assert [p["sid"] for p in third["providers"]] == ordered[4:]
    assert [p["sid"] for p in back["providers"]] == ordered[2:4]
    assert first["meta"]["key"] == "providers"
    assert first["meta"]["page_size"] == 2
    assert first["meta"]["previous_page_url"] is None
    assert third["meta"]["next_page_url"] is None
    assert first["meta"]["url"].startswith(f"{ingress.base_url}{PATH}?")


async def test_another_account_cannot_see_or_touch_our_providers(ingress: RunningParley) -> None:
    async with ingress.client() as client:
        ours = await create_provider(client, NUMBER)
        response = await client.post("/api/2010-04-01/Accounts.json", data={"FriendlyName": "Other tenant"})
        assert response.status_code == 201, response.text
        other = response.json()
    url = f"{PATH}/{ours['sid']}"
    async with httpx.AsyncClient(base_url=ingress.base_url, auth=(other["sid"], other["auth_token"])) as theirs:
        assert_twilio_error(await theirs.get(url), 404, 20404)
        assert_twilio_error(await theirs.post(url, data={"FriendlyName": "Hijacked"}), 404, 20404)
        assert_twilio_error(await theirs.delete(url), 404, 20404)
        assert await providers_of(theirs) == []
        # Addresses are unique per account: the other tenant may connect the same number to its own carrier.
        their_own = await create_provider(theirs, NUMBER)
        assert their_own["account_sid"] == other["sid"]
    async with ingress.client() as client:
        assert (await client.get(url)).json() == ours


async def test_providers_require_account_credentials(ingress: RunningParley) -> None:
    async with httpx.AsyncClient(base_url=ingress.base_url) as anonymous:
        assert_twilio_error(await anonymous.get(PATH), 401, 20003)
    async with httpx.AsyncClient(base_url=ingress.base_url, auth=(ingress.account.sid, "wrong-token")) as wrong:
        assert_twilio_error(await wrong.post(PATH, data={"Type": "twilio", "Addresses": NUMBER}), 401, 20003)
