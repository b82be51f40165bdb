"""The runtime starts every service against the real broker and database and answers authenticated calls."""

from tests.support.parley import RunningParley


async def test_accounts_api_answers_the_dev_account(parley: RunningParley) -> None:
    async with parley.client() as client:
        response = await client.get(f"/api/2010-04-01/Accounts/{parley.account.sid}.json")
    assert response.status_code == 200
    assert response.json()["sid"] == parley.account.sid


async def test_wrong_token_is_refused_with_twilio_error(parley: RunningParley) -> None:
    async with parley.client() as client:
        response = await client.get(f"/api/2010-04-01/Accounts/{parley.account.sid}.json",
                                    auth=(parley.account.sid, "0" * 32))
    assert response.status_code == 401
    assert response.json()["code"] == 20003
