"""Every URL field a client configures is checked against the egress policy when it is given: an address the policy
would refuse at delivery time is a 400 naming the parameter now, and nothing is stored.

The tests run with PARLEY_EGRESS_NETWORKS=127.0.0.0/8 and use IP literals only, so no check needs DNS and nothing is
ever sent anywhere but 127.0.0.1. (The Conversations webhook URLs are tested in tests/webhooks/test_acceptance.py.)
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.parley import RunningParley
from tests.support.receiver import Receiver

WORKSPACES = "/taskrouter/v1/Workspaces"
REFUSED_URLS = ["http://10.0.0.1/x", "http://[fd00::1]/x", "http://169.254.169.254/latest/meta-data/"]

Creating = tuple[str, dict[str, str]]  # the collection a resource is created in, and its form without the URL


async def post_created(client: httpx.AsyncClient, path: str, form: dict[str, str]) -> dict[str, Any]:
    response = await client.post(path, data=form)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def a_workspace(client: httpx.AsyncClient) -> Creating:
    return WORKSPACES, {"FriendlyName": "Support"}


async def a_workflow(client: httpx.AsyncClient) -> Creating:
    workspace = f"{WORKSPACES}/{(await post_created(client, WORKSPACES, {'FriendlyName': 'Support'}))['sid']}"
    queue = await post_created(client, f"{workspace}/TaskQueues", {"FriendlyName": "Everyone"})
    routing = {"task_routing": {"default_filter": {"queue": queue["sid"]}}}
    return f"{workspace}/Workflows", {"FriendlyName": "To everyone", "Configuration": json.dumps(routing)}


async def an_external_flex_flow(client: httpx.AsyncClient) -> Creating:
    return "/flex-api/v1/FlexFlows", {"FriendlyName": "Web to a bot", "ChatServiceSid": "IS" + "a" * 32,
                                      "ChannelType": "web", "IntegrationType": "external"}


async def a_provider(client: httpx.AsyncClient) -> Creating:
    return "/parley/v1/Providers", {"Type": "twilio", "Addresses": "+15550001111",
                                    "Credentials.AccountSid": "AC" + "1" * 32, "Credentials.AuthToken": "carrier-token"}


@dataclass(frozen=True)
class UrlField:
    """A URL parameter, how the resource holding it is created, and how its stored value reads back."""

    parameter: str
    creating: Callable[[httpx.AsyncClient], Awaitable[Creating]]  # makes what the resource needs first
    listing: str  # the key of the collection's page
    stored: Callable[[dict[str, Any]], Any]
    clears: bool = True  # whether an empty value clears it (a Flex Flow's external integration needs its URL)

    def __str__(self) -> str:
        return self.parameter


FIELDS = [
    UrlField("EventCallbackUrl", a_workspace, "workspaces", lambda found: found["event_callback_url"]),
    UrlField("AssignmentCallbackUrl", a_workflow, "workflows", lambda found: found["assignment_callback_url"]),
    UrlField("FallbackAssignmentCallbackUrl", a_workflow, "workflows",
             lambda found: found["fallback_assignment_callback_url"]),
    UrlField("Integration.Url", an_external_flex_flow, "flex_flows", lambda found: found["integration"].get("url"),
             clears=False),
    UrlField("ApiBaseUrl", a_provider, "providers", lambda found: found["api_base_url"]),
]


def assert_refused_by_egress(response: httpx.Response, parameter: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["status"], body["code"]) == (400, 20001)
    assert f"'{parameter}'" in body["message"] and "egress policy" in body["message"], body["message"]


async def created(client: httpx.AsyncClient, url_field: UrlField, creating: Creating, url: str) -> dict[str, Any]:
    collection, form = creating
    resource = await post_created(client, collection, {**form, url_field.parameter: url})
    assert url_field.stored(resource) == url
    return resource


async def read_back(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("refused_url", REFUSED_URLS)
@pytest.mark.parametrize("url_field", FIELDS, ids=str)
async def test_a_url_outside_the_egress_networks_is_refused_on_create_and_update_and_nothing_changes(
    parley: RunningParley, receiver: Receiver, url_field: UrlField, refused_url: str
) -> None:
    allowed = f"{receiver.url}/allowed"
    async with parley.client() as client:
        creating = await url_field.creating(client)
        collection, form = creating
        assert_refused_by_egress(await client.post(collection, data={**form, url_field.parameter: refused_url}),
                                 url_field.parameter)
        resource = await created(client, url_field, creating, allowed)
        path = f"{collection}/{resource['sid']}"
        assert_refused_by_egress(await client.post(path, data={url_field.parameter: refused_url}), url_field.parameter)

        # Reading back is the barrier: the refused create made nothing, the refused update left the URL as it was.
        listed = (await read_back(client, collection))[url_field.listing]
        assert [item["sid"] for item in listed] == [resource["sid"]]
        assert url_field.stored(await read_back(client, path)) == allowed


@pytest.mark.parametrize("url_field", FIELDS, ids=str)
async def test_a_url_on_an_allowed_network_is_taken_and_an_empty_value_clears_it(
    parley: RunningParley, receiver: Receiver, url_field: UrlField
) -> None:
    async with parley.client() as client:
        creating = await url_field.creating(client)
        collection, _ = creating
        resource = await created(client, url_field, creating, f"{receiver.url}/first")
        path = f"{collection}/{resource['sid']}"
        moved = await client.post(path, data={url_field.parameter: f"{receiver.url}/second"})
        assert moved.status_code == 200, moved.text
        assert url_field.stored(await read_back(client, path)) == f"{receiver.url}/second"
        if url_field.clears:
            cleared = await client.post(path, data={url_field.parameter: ""})
            assert cleared.status_code == 200, cleared.text
            assert url_field.stored(await read_back(client, path)) is None
