"""Contract: schemathesis runs every in-scope operation of Twilio's four OpenAPI files against all of Parley, with
positive and with negative data. No answer may be a server error, and every answer must match Twilio's schema.

Generated SIDs are swapped for real ones (a workspace, a conversation, an interaction…, made at the start), so the
cases reach real code rather than only 404s; every URL-typed field is pinned to http://127.0.0.1:9/, so nothing is
ever called outside this machine. The operations Parley deliberately does not serve are listed in OUT_OF_SCOPE,
each with its reason; every other operation must be routed. A failure found here becomes a regression case in
test_bad_input.py.

The files come from ../shared/twilio-oai beside the checkout (PARLEY_TWILIO_OAI overrides). Without them the test
skips, unless PARLEY_REQUIRE_CONTRACT=1 (as `.ci/run` sets), where it fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from starlette.routing import Match

from tests.flex.conftest import open_contact_center
from tests.flex.test_flex_flows import a_flow
from tests.flex.test_invites_transfers import accepted_interaction
from tests.support.parley import REPOSITORY, RunningParley
from tests.support.receiver import Receiver
from tests.support.waiting import eventually

OAI = Path(os.environ.get("PARLEY_TWILIO_OAI", REPOSITORY.parent / "shared" / "twilio-oai"))
REQUIRED = os.environ.get("PARLEY_REQUIRE_CONTRACT") == "1"

# Each file, the prefix Parley serves it under, and how many operations it has (so a new file version is noticed).
FILES = {
    "twilio_conversations_v1.json": ("/conversations", 103),
    "twilio_flex_v1.json": ("/flex-api", 73),
    "twilio_flex_v2.json": ("/flex-api", 3),
    "twilio_taskrouter_v1.json": ("/taskrouter", 61),
}

# Cases per operation and mode: about four minutes in all on an idle 2-core machine. A deeper run, by hand:
# PARLEY_CONTRACT_EXAMPLES=50.
EXAMPLES_PER_OPERATION = int(os.environ.get("PARLEY_CONTRACT_EXAMPLES", "6"))
NOWHERE = "http://127.0.0.1:9/"  # the discard port: refused at once, on this machine

LEGACY_CHANNELS = ("Flex's legacy Channels (the Programmable Chat era); web chat is served by WebChannels and "
                   "v2 WebChats")
PLUGINS = "Flex UI plugin hosting belongs to Twilio's hosted Flex UI; Parley ships its own browser apps"
INSIGHTS = ("Flex Insights (quality management, analytics) is a separate Twilio product; Parley's figures are "
            "/parley/v1/Reports")
FLEX_USERS = "Twilio's Flex instance user directory; Parley's agents are /parley/v1/Agents"
PROVISIONING = "Twilio's provisioning of a hosted Flex account; a Parley deployment is provisioned by its operator"

OUT_OF_SCOPE: dict[str, dict[str, str]] = {
    "twilio_flex_v1.json": {
        **dict.fromkeys(("ListChannel", "CreateChannel", "FetchChannel", "DeleteChannel"), LEGACY_CHANNELS),
        **dict.fromkeys((
            "ListConfiguredPlugin", "FetchConfiguredPlugin", "ListPlugin", "CreatePlugin", "FetchPlugin",
            "UpdatePlugin", "UpdatePluginArchive", "ListPluginConfiguration", "CreatePluginConfiguration",
            "FetchPluginConfiguration", "UpdatePluginConfigurationArchive", "ListPluginRelease",
            "CreatePluginRelease", "FetchPluginRelease", "ListPluginVersion", "CreatePluginVersion",
            "FetchPluginVersion", "UpdatePluginVersionArchive"), PLUGINS),
        **dict.fromkeys((
            "CreateInsightsAssessments", "ListInsightsAssessments", "UpdateInsightsAssessments",
            "CreateInsightsAssessmentsComment", "ListInsightsAssessmentsComment", "ListInsightsConversations",
            "CreateInsightsQuestionnaires", "ListInsightsQuestionnaires", "UpdateInsightsQuestionnaires",
            "DeleteInsightsQuestionnaires", "FetchInsightsQuestionnaires", "CreateInsightsQuestionnairesCategory",
            "ListInsightsQuestionnairesCategory", "UpdateInsightsQuestionnairesCategory",
            "DeleteInsightsQuestionnairesCategory", "CreateInsightsQuestionnairesQuestion",
            "ListInsightsQuestionnairesQuestion", "UpdateInsightsQuestionnairesQuestion",
            "DeleteInsightsQuestionnairesQuestion", "ListInsightsSegments", "CreateInsightsSession",
            "FetchInsightsSettingsAnswersets", "FetchInsightsSettingsComment", "FetchInsightsUserRoles"), INSIGHTS),
        "FetchProvisioningStatus": PROVISIONING,
    },
    "twilio_flex_v2.json": dict.fromkeys(("FetchFlexUser", "UpdateFlexUser"), FLEX_USERS),
}

# Where Twilio's file is wrong about what Twilio itself answers, (file, operationId, response field) → why; the
# field's schema is then left unchecked for that operation alone. Keep it short: each entry is a claim about Twilio.
SCHEMA_MISTAKES: dict[tuple[str, str, str], str] = {}

# What may be dead-lettered during the run: webhooks to NOWHERE that gave up, and sends to the proxy address no
# provider serves (real_sids makes one on purpose). A consumer failing on what the API accepted is anything else,
# as far as it had come by the end of the run.
EXPECTED_DEAD = ("ConnectError", "Provider error 90112")

SID = re.compile(r"([A-Z]{2})[0-9a-fA-F]{32}")


@pytest.fixture
def twilio_oai() -> Path:
    """The folder of Twilio's files; skips (fails, when the contract is required) if any file is missing."""
    missing = [name for name in FILES if not (OAI / name).is_file()]
    if missing:
        reason = (f"Twilio's OpenAPI files {missing} are not in {OAI} (../shared/twilio-oai beside the checkout; "
                  "set PARLEY_TWILIO_OAI to their folder)")
        if REQUIRED:
            pytest.fail(f"PARLEY_REQUIRE_CONTRACT=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return OAI


@dataclass(frozen=True)
class RealSids:
    """Real resources for generated SIDs to point at: by the collection a path names, and by SID prefix."""

    by_collection: dict[str, dict[str, str]]  # file → path segment ("Workspaces", "Channels"…) → SID
    by_prefix: dict[str, str]  # "WS" → a workspace SID, for SID-valued parameters and fields

    def for_path(self, file: str, path: str, method: str, generated: dict[str, Any]) -> dict[str, Any]:
        """Each path parameter replaced by a real SID of the collection it names, except the one a DELETE removes
        (deleting a fixture would leave later operations only 404s)."""
        segments = path.strip("/").split("/")
        named = {segment[1:-1]: segments[index - 1] for index, segment in enumerate(segments)
                 if segment.startswith("{")}
        removed = list(named)[-1] if method.lower() == "delete" else None
        collections = self.by_collection.get(file, {})
        return {name: collections.get(named[name], value) if name != removed and well_formed(value) else value
                for name, value in generated.items()}

    def for_values(self, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        return {name: self.by_prefix.get(sid_prefix(value), value) if isinstance(value, str) else value
                for name, value in values.items()}


def sid_prefix(value: str) -> str:
    match = SID.fullmatch(value)
    return match.group(1) if match else ""


def well_formed(value: Any) -> bool:
    """Negative cases keep their malformed path values; any other string stands for a resource."""
    return isinstance(value, str) and bool(value) and value.isprintable() and "/" not in value


def url_fields(operation: Any) -> set[str]:
    """Fields that Parley would call: format uri, or named like a URL or a callback."""
    named: set[str] = set()
    for body in operation.body:
        for name, schema in body.definition.get("schema", {}).get("properties", {}).items():
            if schema.get("format") == "uri" or name.endswith(("Url", "URL", "Callback")):
                named.add(name)
    for parameter in operation.query:
        if parameter.definition.get("schema", {}).get("format") == "uri" or parameter.name.endswith(("Url", "URL")):
            named.add(parameter.name)
    return named


def pinned(values: Any, names: set[str]) -> Any:
    if not isinstance(values, dict):
        return values
    return {name: NOWHERE if name in names else value for name, value in values.items()}


def amended_spec(folder: Path, file: str) -> dict[str, Any]:
    """Twilio's file, with each SCHEMA_MISTAKES field accepting anything in that operation's answers."""
    spec: dict[str, Any] = json.loads((folder / file).read_text())
    for (mistake_file, operation_id, name) in SCHEMA_MISTAKES:
        if mistake_file != file:
            continue
        for operations in spec["paths"].values():
            for operation in operations.values():
                if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                    for response in operation["responses"].values():
                        for content in response.get("content", {}).values():
                            content["schema"] = with_field_unchecked(spec, content["schema"], name)
    return spec


def with_field_unchecked(spec: dict[str, Any], schema: dict[str, Any], field: str) -> dict[str, Any]:
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    copied = json.loads(json.dumps(schema))
    copied["properties"][field] = {}
    return copied


async def real_sids(center: Any, parley: RunningParley) -> RealSids:
    """One of each resource the four files reach, made through Parley's own API."""
    conversation_sid, channel_url, task_sid, alice = await accepted_interaction(center)
    interaction_sid, channel_sid = channel_url.split("/")[4], channel_url.split("/")[6]
    conversations = "/conversations/v1"
    service_sid = (await center.get(f"{conversations}/Configuration"))["default_chat_service_sid"]
    at = f"{conversations}/Conversations/{conversation_sid}"
    # No provider serves this proxy address: the send fails at once, and its failure is the message's receipt.
    await center.post(f"{at}/Participants", {"MessagingBinding.Address": "+15550000009",
                                             "MessagingBinding.ProxyAddress": "+15550000008"}, status=201)
    message = await center.post(f"{at}/Messages", {"Author": "alice", "Body": "Hello"}, status=201)
    receipts = await eventually(lambda: center.get(f"{at}/Messages/{message['sid']}/Receipts"),
                                until=lambda page: page["delivery_receipts"], what="a delivery receipt")
    participants = (await center.get(f"{at}/Participants"))["participants"]
    webhook = await center.post(f"{at}/Webhooks", {"Target": "webhook", "Configuration.Url": NOWHERE,
                                                    "Configuration.Filters": "onMessageAdded"}, status=201)
    user_sid = (await center.post(f"{conversations}/Users", {"Identity": "alice"}, status=201))["sid"]
    role_sid = (await center.get(f"{conversations}/Roles"))["roles"][0]["sid"]
    credential = await center.post(f"{conversations}/Credentials", {"Type": "fcm", "Secret": "fcm-key"}, status=201)
    address = await center.post(f"{conversations}/Configuration/Addresses", {
        "Type": "chat", "Address": "contract-chat", "FriendlyName": "Website chat", "AutoCreation.Enabled": "true",
        "AutoCreation.Type": "default"}, status=201)

    ws = center.ws
    transfer = await center.http.post(f"{channel_url}/Transfers", json={"from": alice["sid"], "to": center.queue_sid,
                                                                          "type": "warm"})
    assert transfer.status_code == 201, transfer.text
    reservation_sid = (await center.get(f"{ws}/Tasks/{task_sid}/Reservations"))["reservations"][0]["sid"]
    worker_channel_sid = (await center.get(f"{ws}/Workers/{center.alice.sid}/Channels"))["channels"][0]["sid"]
    task_channel_sid = (await center.get(f"{ws}/TaskChannels"))["channels"][0]["sid"]
    event_sid = (await center.get(f"{ws}/Events"))["events"][0]["sid"]
    flex_flow = await center.post("/flex-api/v1/FlexFlows", {
        "FriendlyName": "Web", "ChatServiceSid": service_sid, "ChannelType": "web", "IntegrationType": "studio",
        "Integration.FlowSid": (await a_flow(center))["sid"]}, status=201)
    web_channel = await center.post("/flex-api/v1/WebChannels", {
        "FlexFlowSid": flex_flow["sid"], "Identity": "guest", "CustomerFriendlyName": "Guest",
        "ChatFriendlyName": "Chat"}, status=201)

    conversation_collections = {
        "Services": service_sid, "Conversations": conversation_sid, "Messages": message["sid"],
        "Receipts": receipts["delivery_receipts"][0]["sid"], "Participants": participants[0]["sid"],
        "Webhooks": webhook["sid"], "Users": user_sid, "Roles": role_sid, "Credentials": credential["sid"],
        "Addresses": address["sid"]}
    taskrouter_collections = {
        "Workspaces": center.workspace_sid, "Activities": center.available_sid, "Events": event_sid,
        "Tasks": task_sid, "TaskChannels": task_channel_sid, "TaskQueues": center.queue_sid,
        "Reservations": reservation_sid, "Workers": center.alice.sid, "Channels": worker_channel_sid,
        "Workflows": center.workflow_sid}
    flex_collections = {
        "Interactions": interaction_sid, "Channels": channel_sid, "Participants": alice["sid"],
        "Transfers": transfer.json()["sid"], "FlexFlows": flex_flow["sid"], "WebChannels": web_channel["sid"]}
    by_prefix = {sid_prefix(sid): sid for sid in (*conversation_collections.values(),
                                                  *taskrouter_collections.values(), *flex_collections.values(),
                                                  parley.account.sid)}
    by_prefix["CH"] = conversation_sid
    by_prefix["IG"] = address["sid"]  # WebChats name the address a guest writes to
    return RealSids(by_collection={"twilio_conversations_v1.json": conversation_collections,
                                   "twilio_taskrouter_v1.json": taskrouter_collections,
                                   "twilio_flex_v1.json": flex_collections}, by_prefix=by_prefix)


def is_routed(parley: RunningParley, prefix: str, method: str, path: str) -> bool:
    scope = {"type": "http", "method": method.upper(), "path": f"{prefix}{path}", "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in parley.runtime.app.routes)


@dataclass
class Outcome:
    """What one operation's cases got back: how many of each status class, and the problems found."""

    statuses: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def exercise(operation: Any, mode: GenerationMode, *, file: str, base_url: str, auth: tuple[str, str],
             sids: RealSids) -> Outcome:
    """Send generated cases to Parley (no shrinking: the first failures say enough)."""
    outcome = Outcome()
    urls = url_fields(operation)

    @hypothesis.settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                         phases=[hypothesis.Phase.generate], suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        case.path_parameters = sids.for_path(file, operation.path, operation.method, case.path_parameters)
        case.query = pinned(sids.for_values(case.query), urls)
        case.body = pinned(sids.for_values(case.body), urls)
        try:
            response = case.call(base_url=base_url, auth=auth, timeout=15)
        except Exception as error:  # the connection broke: as bad as a 5xx
            outcome.statuses["no answer"] += 1
            outcome.problems.append(f"{case.method} {case.formatted_path} {sent(case)}: no answer ({error!r})"[:500])
            return
        outcome.statuses[f"{response.status_code // 100}xx"] += 1
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        except (Exception, BaseExceptionGroup) as error:  # schemathesis reports check failures as groups
            detail = " | ".join(line.strip() for line in str(error).splitlines() if line.strip())[:600]
            outcome.problems.append(f"{case.method} {case.formatted_path} {sent(case)} → {response.status_code}: "
                                    f"{detail}")

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        pass  # nothing in this operation can be made invalid: its negative run has no case to send
    return outcome


def sent(case: Any) -> str:
    return repr({"query": case.query, "body": case.body})[:300]


@pytest.fixture
async def parley(launch: Any, settings: Any, tmp_path: Path) -> RunningParley:
    return await launch(settings=settings.model_copy(update={"media_directory": str(tmp_path / "media")}))


def check_scope(file: str, operations: list[Any]) -> None:
    expected = FILES[file][1]
    assert len(operations) == expected, f"{file} has {len(operations)} operations, not {expected}: a new version?"
    ids = {operation.definition.raw["operationId"] for operation in operations}
    unknown = set(OUT_OF_SCOPE.get(file, {})) - ids
    assert not unknown, f"OUT_OF_SCOPE names operations {file} does not have: {sorted(unknown)}"


@pytest.mark.timeout(900)  # about four minutes on an idle 2-core machine; far longer when it is shared
async def test_every_in_scope_operation_of_twilios_four_files_meets_the_contract(
    twilio_oai: Path, parley: RunningParley, carrier: Receiver,
) -> None:
    async with parley.client() as http:
        sids = await real_sids(await open_contact_center(parley, http, carrier), parley)
    auth = (parley.account.sid, parley.account.auth_token)
    failures: list[str] = []
    summary: list[str] = []
    for file, (prefix, _) in FILES.items():
        operations = [result.ok() for result in schemathesis.openapi.from_dict(amended_spec(twilio_oai, file))
                      .get_all_operations()]
        check_scope(file, operations)
        in_scope = [operation for operation in operations
                    if operation.definition.raw["operationId"] not in OUT_OF_SCOPE.get(file, {})]
        unrouted = [f"{file} {operation.definition.raw['operationId']}: {operation.method.upper()} "
                    f"{operation.path} is not routed" for operation in in_scope
                    if not is_routed(parley, prefix, operation.method, operation.path)]
        failures.extend(unrouted)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            statuses: Counter[str] = Counter()
            failing = 0
            for operation in in_scope:
                outcome = await asyncio.to_thread(exercise, operation, mode, file=file,
                                                  base_url=parley.base_url + prefix, auth=auth, sids=sids)
                statuses.update(outcome.statuses)
                if outcome.problems:
                    failing += 1
                    failures.append(f"{file} {mode.value} {operation.definition.raw['operationId']}:\n    "
                                    + "\n    ".join(outcome.problems[:3]))
            summary.append(f"{file} {mode.value}: {len(in_scope)} operations, {sum(statuses.values())} cases "
                           f"{dict(sorted(statuses.items()))}, {failing} failing")
    print("\n".join(summary))
    assert not failures, f"{len(failures)} operations break Twilio's contract:\n" + "\n".join(failures)
    async with parley.client() as http:
        dead = (await http.get("/parley/v1/DeadLetters", params={"PageSize": 1000})).json()["dead_letters"]
    unexplained = [letter for letter in dead if not any(known in (letter["error"] or "") for known in EXPECTED_DEAD)]
    assert not unexplained, f"accepted requests that broke a consumer later: {unexplained}"


CONTRACT_TEST = test_every_in_scope_operation_of_twilios_four_files_meets_the_contract.__name__


def run_without_the_files(*, required: bool) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "PARLEY_REQUIRE_CONTRACT"}
    environment |= {"PARLEY_TWILIO_OAI": str(REPOSITORY / "no-such-folder"), "PYTHONPATH": str(REPOSITORY)}
    if required:
        environment["PARLEY_REQUIRE_CONTRACT"] = "1"
    contract = f"{Path(__file__).relative_to(REPOSITORY)}::{CONTRACT_TEST}"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", contract],
                          cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=120)


def test_without_twilios_files_the_contract_skips_with_its_reason_and_fails_where_it_is_required() -> None:
    skipped = run_without_the_files(required=False)
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout, skipped.stdout + skipped.stderr
    assert "set PARLEY_TWILIO_OAI to their folder" in skipped.stdout
    failed = run_without_the_files(required=True)
    assert failed.returncode == 1 and "1 error" in failed.stdout, failed.stdout + failed.stderr
    assert "PARLEY_REQUIRE_CONTRACT=1 but" in failed.stdout
