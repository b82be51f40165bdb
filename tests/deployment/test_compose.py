"""docker-compose.yml and the proxy route every URL prefix to the service that owns it.

No Docker engine runs here, so this checks the files against the real services: each service is
composed alone (real broker and database) and every route it serves must reach it through nginx.
"""

import importlib.util
from pathlib import Path

import pytest
import yaml
from fastapi.routing import APIRoute

from services.catalog import ALL_SERVICES
from tests.support.front_door import proxy_locations, upstream_for

ROOT = Path(__file__).resolve().parents[2]
SHARED_PREFIXES = ("/api/2010-04-01/",)  # the accounts API is mounted by every service


def test_every_compose_service_runs_a_module_that_exists() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    commands = {name: spec.get("command") for name, spec in compose["services"].items() if spec.get("command")}
    assert set(commands) >= {service.name for service in ALL_SERVICES}
    for name, command in commands.items():
        assert command[:2] == ["python", "-m"], name
        assert importlib.util.find_spec(command[2]) is not None, f"{name} runs {command[2]}, which does not exist"
        assert command[2] == f"services.{name}"


def test_every_proxy_upstream_is_a_compose_service() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {upstream for _, upstream in proxy_locations()} <= set(compose["services"])


@pytest.mark.parametrize("service", ALL_SERVICES, ids=lambda service: service.name)
async def test_proxy_routes_every_path_of_a_service_to_it(launch, service) -> None:
    running = await launch([service], http=False)
    paths = [route.path for route in running.runtime.app.routes if isinstance(route, APIRoute)]
    own = [path for path in paths if not path.startswith(SHARED_PREFIXES) and not path.startswith("/parley/docs")]
    for path in own:
        assert upstream_for(path) == service.name, f"{path} is served by {service.name} but proxied to {upstream_for(path)}"
