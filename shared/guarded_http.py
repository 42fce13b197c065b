"""HTTP to hosts named by users (feeds to fetch, webhooks to call), connecting only where it is safe.

The address check happens where the socket is opened (a wrapped httpcore network
backend): the host name is resolved once, every address is checked, and the
connection goes to a checked address, so a DNS answer that changes between check
and connect (rebinding) cannot slip a private address through. Loopback, private,
link-local (cloud metadata), multicast and reserved addresses are refused unless
an operator allow-list names their network. Proxies from the environment are
ignored: a proxy would connect for us, past the check.

Ingest's fetcher (services/ingest/collect/fetch.py) and the alerts webhooks
(services/alerts/webhooks.py) both build their clients on ``guarded_transport``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from shared.errors import PermanentError, TransientError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AddressPolicy:
    """Which resolved addresses a client may connect to."""

    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_strings(cls, networks: Iterable[str]) -> AddressPolicy:
        return cls(tuple(ipaddress.ip_network(network.strip(), strict=False) for network in networks))

    def permits(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed_networks):
            return True
        return address.is_global and not (address.is_multicast or address.is_reserved)


class BlockedAddress(PermanentError):
    def __init__(self, host: str, addresses: list[str]) -> None:
        super().__init__("blocked_address", f"{host} resolves only to refused addresses {addresses}")


class HostUnresolvable(TransientError):
    def __init__(self, host: str, detail: str) -> None:
        super().__init__(f"cannot resolve {host}: {detail}")
        self.detail = f"cannot resolve {host}: {detail}"


class RefusedConnection(PermanentError):
    """A connection of a kind the guard never opens (a unix socket)."""


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving and checking the address before each connection."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port)
        permitted = [address for address in addresses if self.policy.permits(address)]
        if not permitted:
            raise BlockedAddress(host, [str(address) for address in addresses])
        last_error: Exception | None = None
        for address in permitted:
            try:
                # TLS still verifies and sends SNI for ``host``: httpcore takes those from the request's origin.
                return await self.inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as error:
                last_error = error
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedConnection("unix_socket", "connecting through a unix socket is not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (itself if it is an address)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise HostUnresolvable(host, str(error.strerror)) from error
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: AddressPolicy, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        # httpx has no public hook for the network backend; its transport keeps the httpcore pool
        # in ``_pool`` (httpx 0.28, pinned), so the pool is rebuilt with the guarded backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(policy),
        )


def guarded_transport(policy: AddressPolicy, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """An httpx transport that connects only to addresses ``policy`` permits (use with ``trust_env=False``)."""
    return _GuardedTransport(policy, limits)
