"""Push credentials (stored configuration, secrets never returned) and a service's push bindings (list with
filters, fetch, delete) through the official `twilio` library; isolation between accounts."""

import asyncpg
import pytest
from twilio.base.exceptions import TwilioRestException

from services.conversations.store import identity as store
from tests.conversations.identity_support import V1, conversations_alone
from tests.support.parley import RunningParley
from tests.support.twilio_client import call, create_account, twilio_client


@pytest.fixture
async def parley(launch, settings, tmp_path) -> RunningParley:
    return await conversations_alone(launch, settings, tmp_path)


async def test_credential_lifecycle_never_returns_secrets(parley: RunningParley) -> None:
    credentials = twilio_client(parley).conversations.v1.credentials
    apn = await call(credentials.create, type="apn", friendly_name="iOS", certificate="-----BEGIN CERT-----",
                     private_key="-----BEGIN KEY-----", sandbox=True)
    fcm = await call(credentials.create, type="fcm", friendly_name="Android", secret="fcm-server-key")
    assert apn.sid.startswith("CR") and apn.type == "apn" and apn.sandbox == "true"
    assert fcm.sandbox is None and fcm.url.endswith(f"/v1/Credentials/{fcm.sid}")
    assert (await call(credentials(apn.sid).fetch)).friendly_name == "iOS"
    updated = await call(credentials(apn.sid).update, friendly_name="iOS prod", sandbox=False)
    assert updated.friendly_name == "iOS prod" and updated.sandbox == "false"
    assert [c.sid for c in await call(credentials.list, page_size=1)] == [apn.sid, fcm.sid]
    async with parley.client() as http:
        body = (await http.get(f"{V1}/Credentials/{apn.sid}")).text + (await http.get(f"{V1}/Credentials")).text
        refused = await http.post(f"{V1}/Credentials", data={"Type": "webpush"})
        assert refused.status_code == 400 and refused.json()["code"] == 20001
        assert (await http.post(f"{V1}/Credentials", data={"FriendlyName": "no type"})).status_code == 400
    for secret in ("BEGIN CERT", "BEGIN KEY", "fcm-server-key", "private_key", "certificate"):
        assert secret not in body
    assert await call(credentials(fcm.sid).delete) is True
    with pytest.raises(TwilioRestException) as missing:
        await call(credentials(fcm.sid).fetch)
    assert missing.value.status == 404


async def test_bindings_list_filter_fetch_and_delete(parley: RunningParley) -> None:
    client = twilio_client(parley).conversations.v1
    service = await call(client.services.create, friendly_name="Brand")
    credential = await call(client.credentials.create, type="fcm", secret="k")
    # SDK clients register bindings (no REST create exists); the store is how they arrive.
    schema = parley.settings.schema_name("conversations")
    conn = await asyncpg.connect(parley.settings.database_url, server_settings={"search_path": schema})
    try:
        made = [await store.insert_binding(conn, account_sid=parley.account.sid, chat_service_sid=service.sid,
                                           identity=identity, endpoint=f"device-{n}", binding_type=kind,
                                           credential_sid=credential.sid, message_types=["new_message"])
                for n, (identity, kind) in enumerate([("alice", "fcm"), ("alice", "apn"), ("bob", "fcm")])]
    finally:
        await conn.close()
    bindings = client.services(service.sid).bindings
    assert [b.sid for b in await call(bindings.list, page_size=2)] == [b.sid for b in made]
    assert {b.sid for b in await call(bindings.list, identity=["alice"])} == {made[0].sid, made[1].sid}
    assert {b.sid for b in await call(bindings.list, binding_type=["fcm"], identity=["bob"])} == {made[2].sid}
    fetched = await call(bindings(made[0].sid).fetch)
    assert fetched.credential_sid == credential.sid and fetched.endpoint == "device-0"
    assert fetched.message_types == ["new_message"] and fetched.binding_type == "fcm"
    assert await call(bindings(made[0].sid).delete) is True
    with pytest.raises(TwilioRestException) as missing:
        await call(bindings(made[0].sid).fetch)
    assert missing.value.status == 404
    async with parley.client() as http:
        wrong = await http.get(f"{V1}/Services/{service.sid}/Bindings", params={"BindingType": "sms"})
        assert wrong.status_code == 400
        other = await create_account(parley)
    other_client = twilio_client(parley, other).conversations.v1
    for probe in (other_client.services(service.sid).bindings(made[1].sid).fetch,
                  other_client.services(service.sid).bindings(made[1].sid).delete,
                  other_client.credentials(credential.sid).fetch, other_client.credentials(credential.sid).delete):
        with pytest.raises(TwilioRestException) as refused:
            await call(probe)
        assert refused.value.status == 404
    assert await call(other_client.credentials.list) == []
