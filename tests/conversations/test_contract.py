"""Contract: schemathesis generates requests for every Conversations operation of Twilio's OpenAPI file and sends
them to a running Parley (egress limited to 127.0.0.0/8, so no generated URL is ever called). Every operation
must be routed, never answer 5xx, and every 2xx body must validate against Twilio's response schema.

Operations that still fail are listed in EXPECTED_GAPS, by operationId: they are run and reported, not hidden.
A listed operation that now passes fails the test, so the list only ever shrinks.
"""

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

OAI = Path(os.environ.get("PARLEY_TWILIO_OAI", Path(__file__).resolve().parents[3] / "shared" / "twilio-oai"))
SPEC = OAI / "twilio_conversations_v1.json"
if not SPEC.exists():
    pytest.skip(f"Twilio's OpenAPI file is not at {SPEC} (the ../shared/twilio-oai folder is absent; "
                "set PARLEY_TWILIO_OAI to its folder to run the contract test)", allow_module_level=True)

import hypothesis  # noqa: E402
import schemathesis  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402
from starlette.routing import Match  # noqa: E402

from services.conversations.app import SERVICE as CONVERSATIONS  # noqa: E402
from services.router.app import SERVICE as ROUTER  # noqa: E402
from tests.support.parley import RunningParley  # noqa: E402

EXAMPLES_PER_OPERATION = 8

# Operations known not to meet the contract yet (operationId → why). The lead shrinks this list.
EXPECTED_GAPS: dict[str, str] = {}


@pytest.fixture
async def parley(launch, settings, tmp_path) -> RunningParley:
    changed = {"media_directory": str(tmp_path / "media"), "egress_networks": ["127.0.0.0/8"]}
    # The router answers whether a Studio flow an address names exists in the account (shared/references.py);
    # without it an address update is a correct 503, which the contract would count as a server error.
    return await launch([CONVERSATIONS, ROUTER], settings=settings.model_copy(update=changed))


def is_routed(parley: RunningParley, method: str, path: str) -> bool:
    scope = {"type": "http", "method": method.upper(), "path": f"/conversations{path}", "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in parley.runtime.app.routes)


def exercise(operation: Any, *, base_url: str, auth: tuple[str, str], service_sid: str) -> list[str]:
    """Run generated cases against Parley; the problems found (no shrinking: the first failures say enough)."""
    problems: list[str] = []
    names = {parameter.name for parameter in operation.path_parameters}
    fixed = {"ChatServiceSid": service_sid} if "ChatServiceSid" in names else None

    @hypothesis.settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(case=operation.as_strategy(path_parameters=fixed))
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, auth=auth, timeout=10)
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        except (Exception, BaseExceptionGroup) as error:  # schemathesis reports check failures as groups
            detail = " | ".join(line.strip() for line in str(error).splitlines() if line.strip())[:400]
            problems.append(f"{case.method} {case.formatted_path} → {response.status_code}: {detail}")

    run()
    return problems


async def test_every_conversations_operation_meets_twilios_contract(parley: RunningParley) -> None:
    schema = schemathesis.openapi.from_path(str(SPEC))
    async with parley.client() as http:
        service_sid = (await http.get("/conversations/v1/Configuration")).json()["default_chat_service_sid"]
    base_url = f"{parley.base_url}/conversations"
    auth = (parley.account.sid, parley.account.auth_token)
    failures: dict[str, list[str]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 103
    for operation in operations:
        operation_id = operation.definition.raw.get("operationId", operation.label)
        if not is_routed(parley, operation.method, operation.path):
            failures[operation_id] = [f"{operation.method.upper()} {operation.path} is not routed"]
            continue
        problems = await asyncio.to_thread(exercise, operation, base_url=base_url, auth=auth, service_sid=service_sid)
        if problems:
            failures[operation_id] = problems
    unexpected = {name: problems for name, problems in failures.items() if name not in EXPECTED_GAPS}
    fixed = sorted(name for name in EXPECTED_GAPS if name not in failures)
    report = "\n".join(f"{name}:\n  " + "\n  ".join(problems[:3]) for name, problems in sorted(unexpected.items()))
    assert not unexpected, f"operations breaking Twilio's contract:\n{report}"
    assert not fixed, f"these operations now meet the contract; remove them from EXPECTED_GAPS: {fixed}"
