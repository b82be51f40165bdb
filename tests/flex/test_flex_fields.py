"""FlexFlows, WebChannels and Configuration answer exactly the fields of Twilio's OpenAPI file (flex v1)."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.flex.conftest import PARLEY_NUMBER, ContactCenter
from tests.flex.test_flex_flows import SERVICE, a_flow

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
