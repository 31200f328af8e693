"""The address policy of every guarded connection: which addresses a guard lets a socket connect to.

The connect hook (core/netguard) sees the address a socket actually connects to, after DNS, so the check
cannot be raced by DNS rebinding (the address checked is the address used; nothing resolves twice).
Inside a guard, a connection to an address that is not `is_global` (loopback, RFC 1918, link-local, CGNAT
100.64.0.0/10, documentation ranges, ...) is refused unless it is the host the operator configured
(`trusted`: its address, on its port or 80/443, so an internal http -> https redirect still works), a proxy
named in the environment (`HTTPS_PROXY`…), or `allow_private` is set. A redirect into an internal service is thereby refused
for every transport, including a WebSocket library that follows redirects by itself.

Kept apart from the guard and its watchdog: it is pure address arithmetic (and lookups of configured hosts),
with no thread or deadline in it.
"""

from __future__ import annotations

import ipaddress
import socket


class AddressRefused(ConnectionRefusedError):
    """A connection to a non-global address that nobody configured; an OSError, so every client reports it
    as its usual connection error (with this message)."""


def is_global_ip(value: str) -> bool:
    """True for an address on the public internet (not loopback, private, CGNAT, link-local, reserved…)."""
    ip = _parsed(value)
    return ip is not None and bool(ip.is_global) and not ip.is_multicast


def _parsed(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`value` as an address (zone and brackets dropped, an IPv4-mapped IPv6 address as its IPv4), or None."""
    try:
        ip = ipaddress.ip_address(value.split("%")[0].strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def addresses_of(host: str) -> set[str]:
    """Every address `host` resolves to now (a literal IP is itself); empty when it does not resolve."""
    host = host.strip("[]")
    try:
        return {str(ipaddress.ip_address(host.split("%")[0]))}
    except ValueError:
        pass
    try:
        return {str(i[4][0]).split("%")[0] for i in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return set()



def _norm(ip: str) -> str:
    addr = _parsed(ip)
    return ip if addr is None else str(addr)



_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def origins_of(url: str) -> set[tuple[str, int]]:
    """(address, port) pairs a URL's origin resolves to now: what a guard trusts for a configured URL."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
        host = parts.hostname or ""
    except ValueError:
        return set()
    return {(_norm(a), p) for a in addresses_of(host) for p in {port, 80, 443}} if host else set()


def _proxies() -> list[str]:
    """Proxies the HTTP clients take from the environment: connecting to them is not a redirect."""
    import os

    names = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
    return [v if "://" in v else f"http://{v}" for n in names if (v := os.environ.get(n, "").strip())]


def host_of(url: str) -> str:
    """The hostname of a URL (for `trusted=`), without port or brackets."""
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
