"""Which webhook URLs the server may call (SSRF protection).

A target must be http(s) and every address its host resolves to must be public: loopback,
private, link-local, shared (CGNAT), multicast, reserved and unspecified addresses are refused,
including IPv4 addresses embedded in IPv6 (IPv4-mapped, 6to4, NAT64). The check runs when a
subscription is saved and again before every attempt, and the attempt connects to the
addresses vetted by that check, so a DNS answer that changes in between cannot redirect it.
``settings.ALLOW_PRIVATE_WEBHOOK_TARGETS`` lifts the address rule (development, tests, or
receivers on a private network); the scheme rule always applies.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeTarget(ValueError):
    """The URL may not be called; the message says why (shown to the admin)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, what goes on the request line
    addresses: tuple[str, ...]  # vetted IP addresses, in resolver order


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None when it is."""
    embedded: ipaddress.IPv4Address | None = None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            embedded = address.ipv4_mapped
        elif address.sixtofour is not None:
            embedded = address.sixtofour
        elif address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if embedded is not None:
        reason = address_refusal(embedded)
        return f"embeds {embedded}, which {reason}" if reason else None
    checks = (
        (address.is_unspecified, "is unspecified"),
        (address.is_loopback, "is a loopback address"),
        (address.is_link_local, "is link-local"),
        (address.is_multicast, "is multicast"),
        (address.is_private, "is a private address"),
        (address.is_reserved, "is reserved"),
        (not address.is_global, "is not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def resolve_target(url: str) -> Target:
    """Parse and resolve ``url``; raise UnsafeTarget unless it may be called now."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"The URL is not valid: {exc}.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeTarget("Only http and https URLs are allowed.")
    host = parts.hostname
    if not host:
        raise UnsafeTarget("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("Credentials in the URL are not allowed.")
    if port is None:
        port = 443 if scheme == "https" else 80
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"The host {host} could not be resolved.") from exc
    addresses: list[str] = []
    for info in infos:
        # The scope id of a link-local IPv6 address ("fe80::1%eth0") is not part of the
        # address; such addresses are refused below anyway.
        text = str(info[4][0]).split("%", 1)[0]
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise UnsafeTarget(f"The host {host} could not be resolved.")
    if not settings.ALLOW_PRIVATE_WEBHOOK_TARGETS:
        for text in addresses:
            reason = address_refusal(ipaddress.ip_address(text))
            if reason is not None:
                if host == text:
                    raise UnsafeTarget(f"Refused: {text} {reason}.")
                raise UnsafeTarget(f"Refused: {host} resolves to {text}, which {reason}.")
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))
