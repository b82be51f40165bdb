"""The egress policy's address classification, over IP literals."""

import ipaddress

import pytest

from shared.egress import EgressRefused, is_allowed_address, is_public_address, parse_networks, resolve_destination

NOT_PUBLIC = [
    "127.0.0.1", "127.255.255.254", "0.0.0.0", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255",
    "192.168.1.1", "169.254.169.254", "169.254.0.1", "100.64.0.1", "224.0.0.1", "255.255.255.255", "240.0.0.1",
    "192.0.2.1", "198.18.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "::ffff:169.254.169.254", "2002:7f00:1::1", "64:ff9b::a00:1", "2001:db8::1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "172.32.0.1", "11.0.0.1"]


@pytest.mark.parametrize("literal", NOT_PUBLIC)
def test_non_public_addresses_are_refused_by_default(literal: str) -> None:
    address = ipaddress.ip_address(literal)
    assert not is_public_address(address)
    assert not is_allowed_address(address, [])


@pytest.mark.parametrize("literal", PUBLIC)
def test_public_addresses_are_allowed_by_default(literal: str) -> None:
    assert is_allowed_address(ipaddress.ip_address(literal), [])


def test_configured_networks_replace_the_default() -> None:
    loopback_only = parse_networks(["127.0.0.0/8"])
    assert is_allowed_address(ipaddress.ip_address("127.0.0.1"), loopback_only)
    assert is_allowed_address(ipaddress.ip_address("::ffff:127.0.0.1"), loopback_only)
    assert not is_allowed_address(ipaddress.ip_address("8.8.8.8"), loopback_only)
    assert not is_allowed_address(ipaddress.ip_address("::1"), loopback_only)


def test_public_keyword_adds_every_public_address() -> None:
    development = parse_networks(["public", "127.0.0.0/8"])
    assert is_allowed_address(ipaddress.ip_address("8.8.8.8"), development)
    assert is_allowed_address(ipaddress.ip_address("127.0.0.1"), development)
    assert not is_allowed_address(ipaddress.ip_address("192.168.0.1"), development)


async def test_localhost_url_is_refused_under_the_default_policy() -> None:
    with pytest.raises(EgressRefused):
        await resolve_destination("http://localhost:8080/hook", [])
    with pytest.raises(EgressRefused):
        await resolve_destination("http://[::ffff:127.0.0.1]:8080/hook", [])


@pytest.mark.parametrize("url", ["ftp://example.com/", "not a url", "http:///path", "http://host:99999/"])
async def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(EgressRefused):
        await resolve_destination(url, parse_networks(["127.0.0.0/8"]))


def test_egress_networks_read_from_the_environment_as_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.settings import Settings

    monkeypatch.setenv("PARLEY_EGRESS_NETWORKS", "public, 127.0.0.0/8,::1/128")
    assert Settings().egress_networks == ["public", "127.0.0.0/8", "::1/128"]
    monkeypatch.setenv("PARLEY_EGRESS_NETWORKS", "not-a-network")
    with pytest.raises(ValueError):
        Settings()
