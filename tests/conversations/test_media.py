"""Media (`/mcs/v1/Services/{ChatServiceSid}/Media`) over plain HTTP: raw and multipart uploads, fetch, the bytes
round-trip through the blob store, the signed temporary URL works without credentials and then expires;
isolation between accounts."""

import os

import httpx
import pytest

from tests.conversations.identity_support import V1, conversations_alone
from tests.support.parley import RunningParley
from tests.support.twilio_client import create_account
from tests.support.waiting import eventually


@pytest.fixture
async def parley(launch, settings, tmp_path) -> RunningParley:
    return await conversations_alone(launch, settings, tmp_path)


async def default_service(parley: RunningParley) -> str:
    async with parley.client() as http:
        return str((await http.get(f"{V1}/Configuration")).json()["default_chat_service_sid"])


async def test_raw_upload_round_trips_the_bytes(parley: RunningParley) -> None:
    service = await default_service(parley)
    picture = os.urandom(256 * 1024)
    async with parley.client() as http:
        created = await http.post(f"/mcs/v1/Services/{service}/Media", content=picture,
                                  headers={"Content-Type": "image/png"}, params={"Filename": "cat.png"})
        assert created.status_code == 201, created.text
        media = created.json()
        assert media["sid"].startswith("ME") and media["service_sid"] == service
        assert media["account_sid"] == parley.account.sid and media["category"] == "media"
        assert media["content_type"] == "image/png" and media["size"] == len(picture) and media["filename"] == "cat.png"
        fetched = (await http.get(f"/mcs/v1/Services/{service}/Media/{media['sid']}")).json()
        assert fetched["size"] == len(picture) and fetched["links"]["content_direct_temporary"].startswith(parley.base_url)
        content = await http.get(f"/mcs/v1/Services/{service}/Media/{media['sid']}/Content")
        assert content.status_code == 200 and content.content == picture
        assert content.headers["content-type"] == "image/png"
    async with httpx.AsyncClient() as anonymous:  # the temporary URL needs no credentials
        direct = await anonymous.get(media["links"]["content_direct_temporary"])
    assert direct.status_code == 200 and direct.content == picture


async def test_multipart_upload_keeps_the_parts_type_and_name(parley: RunningParley) -> None:
    client = parley.client()
    async with client as http:
        service = (await http.post(f"{V1}/Services", data={"FriendlyName": "Brand"})).json()["sid"]
        created = await http.post(f"/mcs/v1/Services/{service}/Media",
                                  files={"media": ("report.pdf", b"%PDF-1.4 hello", "application/pdf")})
        assert created.status_code == 201, created.text
        media = created.json()
        assert (media["content_type"], media["filename"], media["size"]) == ("application/pdf", "report.pdf", 14)
        content = await http.get(media["links"]["content"])
    assert content.content == b"%PDF-1.4 hello"


async def test_the_temporary_url_expires_and_refuses_tampering(launch, settings, tmp_path) -> None:
    parley = await conversations_alone(launch, settings, tmp_path, media_url_lifetime_seconds=1.0)
    service = await default_service(parley)
    async with parley.client() as http:
        media = (await http.post(f"/mcs/v1/Services/{service}/Media", content=b"hello",
                                 headers={"Content-Type": "text/plain"})).json()
    url = media["links"]["content_direct_temporary"]
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(url)).content == b"hello"
        tampered = url.replace("Signature=", "Signature=0")
        assert (await anonymous.get(tampered)).status_code == 403
        later = url.replace("Expires=", "Expires=9")
        assert (await anonymous.get(later)).status_code == 403  # a later expiry breaks the signature

        async def status() -> int:
            return (await anonymous.get(url)).status_code

        await eventually(status, until=lambda code: code == 403, timeout=10, what="the temporary URL to expire")
        refused = await anonymous.get(url)
    assert refused.json()["code"] == 20403
    async with parley.client() as http:  # a fresh fetch signs a fresh URL
        fresh = (await http.get(f"/mcs/v1/Services/{service}/Media/{media['sid']}")).json()
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(fresh["links"]["content_direct_temporary"])).content == b"hello"


async def test_bad_uploads_are_refused_and_store_nothing(parley: RunningParley, tmp_path) -> None:
    service = await default_service(parley)
    async with parley.client() as http:
        empty = await http.post(f"/mcs/v1/Services/{service}/Media", content=b"", headers={"Content-Type": "image/png"})
        assert empty.status_code == 400
        untyped = await http.post(f"/mcs/v1/Services/{service}/Media", content=b"abc", headers={"Content-Type": "nonsense"})
        assert untyped.status_code == 400
        no_file = await http.post(f"/mcs/v1/Services/{service}/Media", files={"note": (None, "just text")})
        assert no_file.status_code == 400
        unknown_service = await http.post(f"/mcs/v1/Services/IS{'0' * 32}/Media", content=b"abc",
                                          headers={"Content-Type": "image/png"})
        assert unknown_service.status_code == 404
        assert (await http.get(f"/mcs/v1/Services/{service}/Media/ME{'0' * 32}")).status_code == 404
    stored = list((tmp_path / "media").rglob("*")) if (tmp_path / "media").exists() else []
    assert [path for path in stored if path.is_file()] == []


async def test_another_account_gets_404_for_the_media(parley: RunningParley) -> None:
    service = await default_service(parley)
    async with parley.client() as http:
        media = (await http.post(f"/mcs/v1/Services/{service}/Media", content=b"secret",
                                 headers={"Content-Type": "text/plain"})).json()
        unauthenticated = await httpx.AsyncClient(base_url=parley.base_url).get(
            f"/mcs/v1/Services/{service}/Media/{media['sid']}")
        assert unauthenticated.status_code == 401
    other = await create_account(parley)
    async with parley.client(other) as http:  # type: ignore[arg-type]
        for path in (f"/mcs/v1/Services/{service}/Media/{media['sid']}",
                     f"/mcs/v1/Services/{service}/Media/{media['sid']}/Content"):
            assert (await http.get(path)).status_code == 404
        upload = await http.post(f"/mcs/v1/Services/{service}/Media", content=b"x", headers={"Content-Type": "text/plain"})
        assert upload.status_code == 404


async def test_deleting_the_service_deletes_its_media_bytes(parley: RunningParley, tmp_path) -> None:
    async with parley.client() as http:
        service = (await http.post(f"{V1}/Services", data={"FriendlyName": "Brand"})).json()["sid"]
        media = (await http.post(f"/mcs/v1/Services/{service}/Media", content=b"bytes",
                                 headers={"Content-Type": "text/plain"})).json()
        assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] != []
        assert (await http.delete(f"{V1}/Services/{service}")).status_code == 204
        assert (await http.get(f"/mcs/v1/Services/{service}/Media/{media['sid']}")).status_code == 404
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == []


SCRIPT = b"<script>document.title = 'ran'</script>"
HOSTILE_FILES = [  # (content type as uploaded, file name): what a browser would run or might sniff into script
    ("text/html", "page.html"), ("image/svg+xml", "drawing.svg"), ("application/xml", "data.xml"),
    ("text/javascript", "code.js"), ("application/x-unknown-thing", "mystery.bin"), ("Text/HTML", "shouting.html"),
    ("application/pdf", "invoice.pdf"),
]
PICTURES = [("image/jpeg", "photo.jpg"), ("image/png", "shot.png"), ("image/gif", "anim.gif"), ("image/webp", "pic.webp")]


async def uploaded_answers(parley: RunningParley, content_type: str, filename: str) -> list[httpx.Response]:
    """The file's content as the account reads it (/Content) and as its temporary link serves it (/Direct)."""
    service = await default_service(parley)
    async with parley.client() as http:
        created = await http.post(f"/mcs/v1/Services/{service}/Media", content=SCRIPT,
                                  headers={"Content-Type": content_type}, params={"Filename": filename})
        assert created.status_code == 201, created.text
        links = created.json()["links"]
        content = await http.get(links["content"])
    async with httpx.AsyncClient() as anonymous:
        direct = await anonymous.get(links["content_direct_temporary"])
    return [content, direct]


@pytest.mark.parametrize(("content_type", "filename"), HOSTILE_FILES)
async def test_a_file_a_browser_could_run_is_a_sandboxed_download(parley: RunningParley, content_type: str,
                                                                 filename: str) -> None:
    for answer in await uploaded_answers(parley, content_type, filename):
        assert answer.status_code == 200 and answer.content == SCRIPT
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-disposition"] == f"attachment; filename*=UTF-8''{filename}"
        assert answer.headers["content-security-policy"] == "sandbox"


@pytest.mark.parametrize(("content_type", "filename"), PICTURES)
async def test_a_raster_picture_shows_inline_and_is_never_sniffed(parley: RunningParley, content_type: str,
                                                                filename: str) -> None:
    for answer in await uploaded_answers(parley, content_type, filename):
        assert answer.status_code == 200 and answer.headers["content-type"] == content_type
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-disposition"] == f"inline; filename*=UTF-8''{filename}"
        assert "content-security-policy" not in answer.headers


async def test_a_content_type_that_could_inject_a_header_is_refused(parley: RunningParley) -> None:
    service = await default_service(parley)
    async with parley.client() as http:
        for content_type in ("text/html\tx: y", "text html", "/html", "text/"):
            refused = await http.post(f"/mcs/v1/Services/{service}/Media", content=SCRIPT,
                                      headers={"Content-Type": content_type})
            assert refused.status_code == 400, (content_type, refused.text)
        listed = await http.post(f"/mcs/v1/Services/{service}/Media", content=SCRIPT, headers={"Content-Type": "a/b"})
        assert listed.status_code == 201  # the barrier: the same upload with a plain type is taken
