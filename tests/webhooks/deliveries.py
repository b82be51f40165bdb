"""Publishing delivery commands as a configuration owner would, and reading the delivery log back."""

from __future__ import annotations

from typing import Any

import httpx

from shared.broker.topology import COMMANDS
from shared.contracts.envelope import Envelope, make_envelope
from shared.contracts.webhooks import DELIVER_WEBHOOK, WebhookDelivery
from shared.sids import sid_from
from tests.support.parley import RunningParley
from tests.support.waiting import eventually


class FormParams(dict[str, str]):
    """Form fields as Twilio's RequestValidator reads them: `getlist` for repeated names."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        self._pairs = pairs

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


def delivery_command(url: str, *, event_type: str = "onMessageAdded", params: list[tuple[str, str]] | None = None,
                     **fields: Any) -> WebhookDelivery:
    return WebhookDelivery(
        event_type=event_type, target=fields.pop("target", "conversation"), url=url,
        params=params if params is not None else [("EventType", event_type), ("Body", "hello")], **fields,
    )


async def publish_delivery(parley: RunningParley, command: WebhookDelivery, *, account_sid: str | None = None
                           ) -> Envelope[Any]:
    """Publish one `webhook.deliver` command (confirmed) for the dev account; returns its envelope."""
    envelope = make_envelope(DELIVER_WEBHOOK, command, account_sid=account_sid or parley.account.sid)
    await parley.runtime.broker.publish(COMMANDS, DELIVER_WEBHOOK, envelope.to_bytes(),
                                        message_id=str(envelope.message_id))
    return envelope


def delivery_sid(envelope: Envelope[Any]) -> str:
    """The SID the webhooks service gives the delivery of this command."""
    return sid_from("DL", str(envelope.message_id))


async def fetch_delivery(client: httpx.AsyncClient, sid: str) -> dict[str, Any]:
    response = await client.get(f"/parley/v1/WebhookDeliveries/{sid}")
    return response.json() if response.status_code == 200 else {"status": None, "http_status": response.status_code}


async def delivery_reaching(client: httpx.AsyncClient, sid: str, status: str, *, timeout: float = 20.0) -> dict[str, Any]:
    """Wait until the delivery has `status`; returns it."""
    return await eventually(lambda: fetch_delivery(client, sid), until=lambda body: body["status"] == status,
                            timeout=timeout, what=f"delivery {sid} to be {status}")


async def dead_letters(client: httpx.AsyncClient, **filters: str) -> list[dict[str, Any]]:
    response = await client.get("/parley/v1/DeadLetters", params={"PageSize": 100, **filters})
    assert response.status_code == 200, response.text
    return list(response.json()["dead_letters"])
