"""The SSRF guard and the one HTTP request of a delivery.

The host is resolved once, every address is checked, and the connection goes to a checked address
whose peer is checked again once connected, so a DNS answer that changes between a check and the
connect (rebinding) cannot reach a private network. Redirects are never followed.
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

TIMEOUT_SECONDS = 10


class AddressRefused(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: bytes


def host_allowed_private(host: str) -> bool:
    return host.lower() in {allowed.lower() for allowed in settings.WEBHOOKS_ALLOW_PRIVATE_URLS}


def address_public(address: str) -> bool:
    """Whether `address` is a global unicast address (not private, loopback, link-local, reserved...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (tests replace this to play a hostile DNS)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _connect(host: str, port: int) -> socket.socket:
    allow_private = host_allowed_private(host)
    addresses = [address for address in resolve(host, port) if allow_private or address_public(address)]
    if not addresses:
        raise AddressRefused(f"{host} resolves only to private, loopback or link-local addresses.")
    sock = socket.create_connection((addresses[0], port), timeout=TIMEOUT_SECONDS)
    peer = sock.getpeername()[0]
    if not (allow_private or address_public(peer)):
        sock.close()
        raise AddressRefused(f"{host} connected to {peer}, a private, loopback or link-local address.")
    return sock


def post(url: str, *, body: bytes, headers: dict[str, str], limit: int) -> Answer:
    """POST `body` to `url` through the guard; the first `limit` bytes of the answer are kept.

    Raises AddressRefused, or OSError (which includes timeouts and TLS errors) when the request fails.
    """
    parts = urlsplit(url)
    host, https = parts.hostname or "", parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    sock = _connect(host, port)
    if https:
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)
    connection.sock = sock
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        return Answer(status_code=response.status, body=response.read(limit))
    finally:
        connection.close()
