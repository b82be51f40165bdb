"""A service's default roles are made on first use: chat users acting at the same moment all get them."""

import asyncio

import httpx

from tests.support.parley import RunningParley

V1 = "/conversations/v1"


async def test_concurrent_first_actions_of_chat_users_all_see_the_default_roles(parley: RunningParley) -> None:
    async with parley.client() as account:
        conversation = (await account.post(f"{V1}/Conversations", data={"FriendlyName": "fresh"})).json()
        joined = await account.post(f"{V1}/Conversations/{conversation['sid']}/Participants", data={"Identity": "ada"})
        assert joined.status_code == 201, joined.text
        token = (await account.post("/parley/v1/AccessTokens", data={"Identity": "ada"})).json()["token"]
    # The account's default service has not needed its roles yet: these requests all find them missing at once.
    async with httpx.AsyncClient(base_url=parley.base_url, headers={"X-Twilio-Token": token}, timeout=30) as ada:
        answers = await asyncio.gather(*(
            ada.post(f"{V1}/Conversations/{conversation['sid']}/Messages", data={"Body": f"hello {n}"})
            for n in range(6)))
    assert [answer.status_code for answer in answers] == [201] * 6, [answer.text for answer in answers]
