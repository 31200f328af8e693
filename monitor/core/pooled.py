"""The deadline guard (core/netguard) for connections an HTTP client keeps alive and reuses.

The guard learns of a socket when it is connected (netguard's `socket.connect` audit hook). A request sent on a
kept-alive connection taken from the pool connects nothing, so the guard knew its socket only once the
response headers had arrived: a server that stalled before them on a reused connection held the request for
`read_timeout` per read, not `http.deadline` for the whole (found on the Mastodon back-fill). Disabling
keep-alive would cost every host a TLS handshake per request; instead httpcore's network backend (its public
extension point, below httpx) wraps each stream so that every read and write first attaches the socket to the
guard armed on the calling thread. A pooled socket thus belongs to whichever guarded block uses it, from the
request's first byte, and a block that has fired or been cancelled shuts it down at its next read or write.

tweepy (the X collector) talks through `requests`, whose urllib3 pool keeps connections alive the same way
(regression: the X collector's second page, sent on the first page's connection, was cut by nothing but the
read timeout). urllib3's extension point is the connection class of a pool: `guard_session` mounts an adapter
whose pools open `GuardedHTTPConnection`/`GuardedHTTPSConnection`, which hand their socket to the current
guard each time a request is sent on them and when its response is awaited. Through a SOCKS proxy (`ALL_PROXY=
socks5://…`, with PySocks installed) requests opens urllib3's SOCKS pools instead: their guarded subclasses
(`GuardedSOCKSConnection`…) are set on the SOCKS proxy manager the same way (regression: only the first
connection through SOCKS was bounded, by the connect hook; a reused one was not).

httpx speaks SOCKS only with `socksio` (`pip install 'httpx[socks]'`); without it a SOCKS proxy in the
environment made httpx raise an ImportError with a traceback at startup. `make_client` says it in one line
instead, naming the variable (`socks_unsupported`).
"""

from __future__ import annotations

import os
import ssl
import weakref
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from monitor.core import netguard


class GuardedStream(httpcore.NetworkStream):
    """An httpcore stream whose socket is attached to the current thread's guard before each read or write."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner
        self._claimed: weakref.ref[netguard.Guard] | None = None    # the last guard told (once per block)

    def _claim(self) -> None:
        guard = netguard.current()
        if guard is None or (self._claimed is not None and self._claimed() is guard):
            return
        self._claimed = weakref.ref(guard)
        guard.attach(self._inner.get_extra_info("socket"))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._claim()
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._claim()
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        self._claim()
        return GuardedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Opens connections as `inner` does (httpcore's sync backend), as GuardedStreams."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        return GuardedStream(self.inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
                            ) -> httpcore.NetworkStream:
        return GuardedStream(self.inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def guard_pools(client: httpx.Client) -> httpx.Client:
    """Give every connection pool of `client` (its transport and proxy mounts) the guarded backend.

    httpx 0.28 takes no `network_backend` (encode/httpx#3749 is open), so it is set on the httpcore pool, before
    the pool has opened anything. If a release moves that attribute this fails loudly at startup rather than
    leaving reused connections outside the deadline. Transports without a pool (a test's MockTransport) open
    no sockets and are left alone."""
    for transport in [client._transport, *client._mounts.values()]:
        pool = getattr(transport, "_pool", None)
        if pool is None:
            continue
        backend = getattr(pool, "_network_backend", None)
        if not isinstance(backend, httpcore.NetworkBackend):
            raise RuntimeError(f"cannot bound reused connections by http.deadline: {type(pool).__name__} has no "
                               "network backend where httpcore 1.0 keeps it (httpx/httpcore upgraded?)")
        if not isinstance(backend, GuardedBackend):
            pool._network_backend = GuardedBackend(backend)
    return client


def is_guarded(client: httpx.Client) -> bool:
    """Whether every pool of `client` reports its streams to the guard (for tests and `monitor check`)."""
    pools = [getattr(t, "_pool", None) for t in [client._transport, *client._mounts.values()]]
    return all(isinstance(p._network_backend, GuardedBackend) for p in pools if p is not None)


class _ClaimsSocket:
    """Mixin for urllib3 connections: before a request is sent and before its response is read, the socket of
    a kept-alive connection is held by the guard armed on this thread (once per guarded block). A connection
    not yet open has no socket here: it connects inside the request, where netguard's connect hook holds it."""

    guarded = True                   # what a test checks on the pools a proxy manager opens
    sock: Any
    _claimed_by: weakref.ref[netguard.Guard] | None = None

    def _claim(self) -> None:
        guard = netguard.current()
        sock = self.sock
        if guard is None or sock is None or (self._claimed_by is not None and self._claimed_by() is guard):
            return
        self._claimed_by = weakref.ref(guard)
        guard.hold(sock)                 # by descriptor: a TLS socket is shut through its own connection

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._claim()
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        self._claim()
        return super().getresponse()  # type: ignore[misc]


class GuardedHTTPConnection(_ClaimsSocket, HTTPConnection):
    """urllib3's plain connection, claimed by the guard on every request (see `_ClaimsSocket`)."""


class GuardedHTTPSConnection(_ClaimsSocket, HTTPSConnection):
    """urllib3's TLS connection, claimed by the guard on every request (see `_ClaimsSocket`)."""


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


GUARDED_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": GuardedHTTPConnectionPool,
                                                      "https": GuardedHTTPSConnectionPool}
GUARDED_SOCKS_POOLS: dict[str, type[HTTPConnectionPool]] = {}
SOCKSProxyManager: type[Any] | None = None

try:                                  # PySocks is optional: without it requests refuses a SOCKS proxy itself
    from urllib3.contrib import socks as _socks
except ImportError:                   # pragma: no cover - PySocks is installed where the tests run
    pass
else:
    class GuardedSOCKSConnection(_ClaimsSocket, _socks.SOCKSConnection):
        """urllib3's connection through a SOCKS proxy, claimed by the guard on every request."""

    class GuardedSOCKSHTTPSConnection(_ClaimsSocket, _socks.SOCKSHTTPSConnection):
        """urllib3's TLS connection through a SOCKS proxy, claimed by the guard on every request."""

    class GuardedSOCKSHTTPConnectionPool(_socks.SOCKSHTTPConnectionPool):
        ConnectionCls = GuardedSOCKSConnection

    class GuardedSOCKSHTTPSConnectionPool(_socks.SOCKSHTTPSConnectionPool):
        ConnectionCls = GuardedSOCKSHTTPSConnection

    GUARDED_SOCKS_POOLS.update(http=GuardedSOCKSHTTPConnectionPool, https=GuardedSOCKSHTTPSConnectionPool)
    SOCKSProxyManager = _socks.SOCKSProxyManager


class GuardedAdapter(HTTPAdapter):
    """requests' default adapter whose pool managers (direct and through an HTTP(S) proxy) open guarded pools."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = GUARDED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is urllib3.ProxyManager:
            manager.pool_classes_by_scheme = GUARDED_POOLS
        elif SOCKSProxyManager is not None and type(manager) is SOCKSProxyManager:
            manager.pool_classes_by_scheme = GUARDED_SOCKS_POOLS
        else:                 # a manager this code does not know would leave reused connections unbounded
            raise RuntimeError(f"cannot bound reused connections through {type(manager).__name__} by http.deadline")
        return manager


def guard_session(session: requests.Session) -> requests.Session:
    """Mount the guarded adapter on `session` for http and https, replacing requests' defaults (same pool
    sizes, no retries, so keep-alive and behaviour are unchanged; only the deadline now reaches reused
    connections). Call before the session has sent anything: a pool already opened keeps its connections."""
    for prefix in ("https://", "http://"):
        if not isinstance(session.adapters.get(prefix), GuardedAdapter):
            session.mount(prefix, GuardedAdapter())
    return session


_PROXY_ENVS = ("ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


def socks_unsupported() -> str | None:
    """One line when the environment names a SOCKS proxy that httpx cannot use (no `socksio`), else None."""
    try:
        import socksio  # noqa: F401
        return None
    except ImportError:
        pass
    for name in _PROXY_ENVS:
        scheme = os.environ.get(name, "").strip().partition("://")[0].lower()
        if scheme.startswith("socks"):
            return (f"{name} names a {scheme}:// proxy, which the collectors' HTTP client (httpx) can only use "
                    "with socksio: pip install 'httpx[socks]' (or unset it)")
    return None


def is_session_guarded(session: requests.Session) -> bool:
    """Whether every adapter of `session` opens guarded connections (for tests and `monitor check`)."""
    return all(isinstance(a, GuardedAdapter) for a in session.adapters.values())
