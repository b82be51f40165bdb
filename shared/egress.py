"""The egress policy: every outbound HTTP call goes only to addresses the operator allows.

By default only public addresses are allowed; `PARLEY_EGRESS_NETWORKS` lists the CIDRs that are
allowed instead (loopback for local development, `127.0.0.0/8` in tests). The host is resolved
once, every address is checked, and the connection is made to the checked address, so a DNS
answer that changes between check and connect cannot redirect a request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud metadata endpoints, named even though most sit inside ranges refused anyway.
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")


class EgressRefused(Exception):
    """The URL may not be called under the egress policy."""


def is_public_address(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses; IPv4-mapped IPv6 is judged as its IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public_address(address.ipv4_mapped)
        if address.sixtofour is not None:
            return is_public_address(address.sixtofour)
        if address.teredo is not None:
            return False
    if address in _METADATA:
        return False
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE:
        return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_loopback or address.is_link_local
    )


PUBLIC = "public"  # in PARLEY_EGRESS_NETWORKS: every public address, besides the CIDRs listed


def parse_networks(cidrs: Sequence[str]) -> list[IPNetwork | str]:
    return [PUBLIC if cidr.strip().lower() == PUBLIC else ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


def is_allowed_address(address: IPAddress, allowed: Sequence[IPNetwork | str]) -> bool:
    """Empty `allowed` means public addresses only; otherwise only what it lists (`public` included)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not allowed:
        return is_public_address(address)
    for network in allowed:
        if network == PUBLIC:
            if is_public_address(address):
                return True
        elif not isinstance(network, str) and address.version == network.version and address in network:
            return True
    return False


@dataclass(frozen=True)
class Destination:
    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress


def check_url_syntax(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EgressRefused(f"'{url}' is not an absolute http(s) URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise EgressRefused(f"'{url}' has an invalid port") from error
    return parts.scheme, parts.hostname, port


async def resolve_destination(url: str, allowed: Sequence[IPNetwork | str], *, timeout: float = 1.0) -> Destination:
    """Resolve the URL's host and check every address it has; refuse if any is outside the policy."""
    scheme, host, port = check_url_syntax(url)
    addresses = await _resolve(host, port, timeout)
    refused = [str(address) for address in addresses if not is_allowed_address(address, allowed)]
    if refused:
        raise EgressRefused(f"'{host}' resolves to {', '.join(refused)}, which the egress policy does not allow")
    return Destination(url=url, scheme=scheme, host=host, port=port, address=addresses[0])


async def _resolve(host: str, port: int, timeout: float) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=timeout
        )
    except (TimeoutError, OSError) as error:
        raise EgressRefused(f"'{host}' could not be resolved") from error
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise EgressRefused(f"'{host}' could not be resolved")
    return addresses
