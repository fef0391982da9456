"""Sending a webhook without becoming a way into the internal network: the endpoint's host is
resolved, every address must be public (unless TANDEM_WEBHOOKS_ALLOW_PRIVATE), and the request
goes to the address that was checked, so a DNS answer cannot change between check and use.
Redirects are not followed."""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeURL(ValueError):
    """The URL is not an http(s) address of a public host."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _refused(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def resolve(url: str) -> Target:
    """Checks `url` and picks the address to connect to. Raises UnsafeURL saying why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("Use an http:// or https:// address.")
    if not parts.hostname:
        raise UnsafeURL("The address has no host.")
    if parts.username or parts.password:
        raise UnsafeURL("Put no user name or password in the address.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeURL("The port is not a number between 1 and 65535.") from error
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeURL(f"The host {parts.hostname} cannot be found.") from error
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not settings.TANDEM_WEBHOOKS_ALLOW_PRIVATE:
        private = [a for a in addresses if _refused(a)]
        if private:
            raise UnsafeURL(
                f"{parts.hostname} resolves to a private, loopback or reserved address "
                f"({private[0]}); webhooks go only to public addresses."
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict, *, timeout: float = 15) -> tuple[int, str]:
    """POSTs and returns (status, the start of the response body). Raises UnsafeURL or OSError
    (connection refused, timeout, TLS failure)."""
    target = resolve(url)
    connection_class = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = connection_class(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(500).decode("utf-8", "replace")
        return response.status, excerpt
    except http.client.HTTPException as error:
        raise OSError(f"{type(error).__name__}: {error}") from error
    finally:
        connection.close()
