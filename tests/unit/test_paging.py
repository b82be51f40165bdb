"""Page tokens round-trip, and a forged or mangled token is a clean 400."""

from collections.abc import Iterator

import pytest

from shared.crypto import SecretBox, generate_key
from shared.errors import TwilioError
from shared.forms import Form
from shared.paging import PageTokenKeys, page_token, page_token_keys, read_page_request


@pytest.fixture(autouse=True)
def keyed() -> Iterator[None]:
    with page_token_keys(PageTokenKeys.of(SecretBox([generate_key()]))):
        yield


def test_token_round_trips_its_keys() -> None:
    key = ["2026-11-25T10:00:00+00:00", "CH" + "a" * 32]
    request = read_page_request(Form([("PageToken", page_token(3, after=key)), ("PageSize", "20")]))
    assert (request.page, request.size, request.after, request.before) == (3, 20, key, None)


@pytest.mark.parametrize("token", [
    "PTeyJwIjo3ODM1MzYyMjE1MCwiYSI6e319",  # well-formed JSON with no MAC
    "garbage", "PT", "PT.", "PT!!!.abc",
])
def test_forged_or_mangled_tokens_are_refused(token: str) -> None:
    with pytest.raises(TwilioError) as refused:
        read_page_request(Form([("PageToken", token)]))
    assert refused.value.status == 400 and refused.value.code == 20001


def test_a_token_with_a_changed_key_is_refused() -> None:
    encoded, mac = page_token(1, after=5).removeprefix("PT").split(".")
    forged = "PT" + page_token(1, after="x").removeprefix("PT").split(".")[0] + "." + mac
    with pytest.raises(TwilioError):
        read_page_request(Form([("PageToken", forged)]))
    assert encoded
