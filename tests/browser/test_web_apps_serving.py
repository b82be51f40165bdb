"""web_apps_router: the built apps with the right content types, their roots, 404s and 'not built' 503s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.ingress.web_apps import NOT_BUILT, web_apps_router
from shared.settings import Settings


def build_dist(root: Path) -> Path:
    dist = root / "dist"
    for app in ("desk", "supervisor", "webchat"):
        (dist / app / "assets").mkdir(parents=True)
        (dist / app / "index.html").write_text(f"<!doctype html><title>{app}</title>")
        (dist / app / "assets" / "index-abc123.js").write_text("console.log(1)")
        (dist / app / "assets" / "index-abc123.css").write_text("body{}")
    (dist / "webchat" / "widget.js").write_text("(function(){})()")
    (dist / "webchat" / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / "secret.txt").write_text("outside dist")
    return dist


def client_for(dist: Path) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(web_apps_router(Settings(), dist_directory=dist))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://parley.test")


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(build_dist(tmp_path)) as built:
        yield built


@pytest.mark.parametrize("app", ["desk", "supervisor", "webchat"])
async def test_app_root_serves_its_index_page(client: httpx.AsyncClient, app: str) -> None:
    answer = await client.get(f"/{app}/")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert f"<title>{app}</title>" in answer.text
    assert answer.headers["cache-control"] == "no-cache"


async def test_app_without_trailing_slash_is_redirected(client: httpx.AsyncClient) -> None:
    answer = await client.get("/desk", params={"x": "1"})
    assert answer.status_code == 308
    assert answer.headers["location"] == "/desk/?x=1"


async def test_files_have_their_content_types_and_hashed_assets_are_cached(client: httpx.AsyncClient) -> None:
    script = await client.get("/desk/assets/index-abc123.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert script.headers["x-content-type-options"] == "nosniff"
    assert (await client.get("/supervisor/assets/index-abc123.css")).headers["content-type"] == "text/css; charset=utf-8"
    widget = await client.get("/webchat/widget.js")
    assert widget.status_code == 200
    assert widget.headers["content-type"] == "text/javascript; charset=utf-8"
    assert widget.headers["cache-control"] == "no-cache"
    assert (await client.get("/webchat/favicon.svg")).headers["content-type"] == "image/svg+xml"
    head = await client.head("/webchat/widget.js")
    assert head.status_code == 200 and head.content == b""


async def test_client_side_routes_get_the_index_page(client: httpx.AsyncClient) -> None:
    answer = await client.get("/desk/conversations/CH0123")
    assert answer.status_code == 200
    assert "<title>desk</title>" in answer.text


@pytest.mark.parametrize("path", ["/desk/missing.js", "/desk/assets/missing", "/webchat/%2e%2e/secret.txt",
                                  "/desk/..%2f..%2fsecret.txt", "/supervisor/.hidden"])
async def test_missing_files_and_paths_outside_the_app_are_twilio_404s(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 404
    assert answer.json()["code"] == 20404
    assert "outside dist" not in answer.text


async def test_unbuilt_apps_answer_503_saying_how_to_build_them(tmp_path: Path) -> None:
    async with client_for(tmp_path / "nowhere") as client:
        for path in ("/desk/", "/supervisor/", "/webchat/widget.js"):
            answer = await client.get(path)
            assert answer.status_code == 503
            assert answer.json()["message"] == NOT_BUILT == "web apps not built: run make web"
