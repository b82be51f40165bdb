"""FlexFlows, WebChannels, Configuration and Interactions (with their channel, participants, invites and
transfers) answer exactly the fields of Twilio's OpenAPI file (flex v1)."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.flex.conftest import PARLEY_NUMBER, ContactCenter
from tests.flex.test_flex_flows import SERVICE, a_flow
from tests.flex.test_invites_transfers import accepted_interaction

OAI = Path(os.environ.get("PARLEY_TWILIO_OAI", Path(__file__).resolve().parents[3] / "shared" / "twilio-oai"))
SPEC = OAI / "twilio_flex_v1.json"
if not SPEC.exists():
    pytest.skip(f"Twilio's OpenAPI file is not at {SPEC} (set PARLEY_TWILIO_OAI to its folder)",
                allow_module_level=True)


def spec() -> dict[str, Any]:
    return dict(json.loads(SPEC.read_text()))


def fields_of(schema: str) -> set[str]:
    return set(spec()["components"]["schemas"][schema]["properties"])


def list_fields(path: str) -> tuple[str, set[str]]:
    listed = spec()["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    key = next(name for name in listed if name != "meta")
    return key, set(listed["meta"]["properties"])


async def test_the_answers_carry_exactly_twilios_fields(center: ContactCenter) -> None:
    flow = await a_flow(center)
    flex_flow = await center.post("/flex-api/v1/FlexFlows", {
        "FriendlyName": "SMS", "ChatServiceSid": SERVICE, "ChannelType": "sms", "ContactIdentity": PARLEY_NUMBER,
        "IntegrationType": "studio", "Integration.FlowSid": flow["sid"]}, status=201)
    assert set(flex_flow) == fields_of("flex.v1.flex_flow")
    web = await center.post("/flex-api/v1/FlexFlows", {
        "FriendlyName": "Web", "ChatServiceSid": SERVICE, "ChannelType": "web", "IntegrationType": "studio",
        "Integration.FlowSid": flow["sid"]}, status=201)
    chat = await center.post("/flex-api/v1/WebChannels", {
        "FlexFlowSid": web["sid"], "Identity": "guest", "CustomerFriendlyName": "Guest",
        "ChatFriendlyName": "Chat"}, status=201)
    assert set(chat) == fields_of("flex.v1.web_channel")
    assert set(await center.get("/flex-api/v1/Configuration")) == fields_of("flex.v1.configuration")

    for path, url in (("/v1/FlexFlows", "/flex-api/v1/FlexFlows"), ("/v1/WebChannels", "/flex-api/v1/WebChannels")):
        key, meta = list_fields(path)
        page = await center.get(url)
        assert set(page) == {key, "meta"} and set(page["meta"]) == meta and page[key]


async def test_interactions_and_their_channel_resources_carry_exactly_twilios_fields(center: ContactCenter) -> None:
    _, channel_url, _, alice = await accepted_interaction(center)
    interaction_url = channel_url.split("/Channels/")[0]
    prefix = "flex.v1.interaction"
    assert set(await center.get(interaction_url)) == fields_of(prefix)
    assert set(await center.get(channel_url)) == fields_of(f"{prefix}.interaction_channel")
    assert set(alice) == fields_of(f"{prefix}.interaction_channel.interaction_channel_participant")
    invite = await center.post(f"{channel_url}/Invites", {"Routing": json.dumps({"properties": {
        "workspace_sid": center.workspace_sid, "workflow_sid": center.workflow_sid}})})
    assert set(invite) == fields_of(f"{prefix}.interaction_channel.interaction_channel_invite")
    transfer = await center.http.post(f"{channel_url}/Transfers", json={"from": alice["sid"], "to": center.queue_sid})
    assert set(transfer.json()) == fields_of(f"{prefix}.interaction_channel.interaction_transfer")

    lists = (("/v1/Interactions/{InteractionSid}/Channels", "/Channels"),
             ("/v1/Interactions/{InteractionSid}/Channels/{ChannelSid}/Participants", "/Participants"),
             ("/v1/Interactions/{InteractionSid}/Channels/{ChannelSid}/Invites", "/Invites"))
    for path, tail in lists:
        key, meta = list_fields(path)
        page = await center.get(interaction_url + tail if tail == "/Channels" else channel_url + tail)
        assert set(page) == {key, "meta"} and set(page["meta"]) == meta and page[key], path
