"""Messages carry media uploaded to the Media Content Service: listed with type, size and a temporary link."""

import json

import httpx

from tests.support.parley import RunningParley
from tests.support.receiver import Receiver

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def upload(client: httpx.AsyncClient, service_sid: str, data: bytes, content_type: str, name: str) -> dict:
    response = await client.post(f"/mcs/v1/Services/{service_sid}/Media", content=data,
                                 headers={"Content-Type": content_type}, params={"Filename": name})
    assert response.status_code == 201, response.text
    return response.json()


async def test_message_with_media_lists_it_and_its_bytes_download(parley: RunningParley, receiver: Receiver) -> None:
    async with parley.client() as client:
        conversation = (await client.post("/conversations/v1/Conversations", data={"FriendlyName": "media"})).json()
        await client.post(f"/conversations/v1/Conversations/{conversation['sid']}/Webhooks", data={
            "Target": "webhook", "Configuration.Url": f"{receiver.url}/hook",
            "Configuration.Filters": "onMessageAdded", "Configuration.Method": "POST",
        })
        service = conversation["chat_service_sid"]
        image = await upload(client, service, PNG, "image/png", "photo.png")
        pdf = await upload(client, service, b"%PDF-1.4 tiny", "application/pdf", "terms.pdf")
        created = await client.post(
            f"/conversations/v1/Conversations/{conversation['sid']}/Messages",
            data={"Author": "agent-1", "MediaSid": [image["sid"], pdf["sid"]]},
            headers={"X-Twilio-Webhook-Enabled": "true"},
        )
        assert created.status_code == 201, created.text
        listed = (await client.get(f"/conversations/v1/Conversations/{conversation['sid']}/Messages")).json()["messages"]
        delivered = await receiver.wait_for(1)

    media = listed[0]["media"]
    assert [(m["sid"], m["content_type"], m["size"], m["filename"]) for m in media] == [
        (image["sid"], "image/png", len(PNG), "photo.png"), (pdf["sid"], "application/pdf", 13, "terms.pdf"),
    ]
    async with httpx.AsyncClient() as anonymous:  # the temporary link needs no credentials
        downloaded = await anonymous.get(media[0]["links"]["content_direct_temporary"])
    assert downloaded.status_code == 200 and downloaded.content == PNG
    assert [item["sid"] for item in json.loads(delivered[0].field("Media") or "[]")] == [image["sid"], pdf["sid"]]


async def test_media_of_another_service_or_account_is_refused_and_nothing_is_stored(launch) -> None:
    parley: RunningParley = await launch()
    async with parley.client() as client:
        conversation = (await client.post("/conversations/v1/Conversations", data={"FriendlyName": "x"})).json()
        other_service = (await client.post("/conversations/v1/Services", data={"FriendlyName": "other"})).json()["sid"]
        foreign = await upload(client, other_service, PNG, "image/png", "elsewhere.png")
        refused = await client.post(f"/conversations/v1/Conversations/{conversation['sid']}/Messages",
                                    data={"MediaSid": foreign["sid"]})
        unknown = await client.post(f"/conversations/v1/Conversations/{conversation['sid']}/Messages",
                                    data={"MediaSid": "ME" + "0" * 32, "Body": "with a ghost"})
        messages = (await client.get(f"/conversations/v1/Conversations/{conversation['sid']}/Messages")).json()
    assert refused.status_code == 400 and unknown.status_code == 400
    assert set(refused.json()) >= {"code", "message", "more_info", "status"}
    assert messages["messages"] == []
