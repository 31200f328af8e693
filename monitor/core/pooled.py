"""The deadline guard (core/netguard) for connections an HTTP client keeps alive and reuses.

The guard learns of a socket when it is connected (netguard's `socket.connect` audit hook). A request sent on a
kept-alive connection taken from the pool connects nothing, so the guard knew its socket only once the
response headers had arrived: a server that stalled before them on a reused connection held the request for
`read_timeout` per read, not `http.deadline` for the whole (found on the Mastodon back-fill). Disabling
keep-alive would cost every host a TLS handshake per request; instead httpcore's network backend (its public
extension point, below httpx) wraps each stream so that every read and write first attaches the socket to the
guard armed on the calling thread. A pooled socket thus belongs to whichever guarded block uses it, from the
request's first byte, and a block that has fired or been cancelled shuts it down at its next read or write.
"""

from __future__ import annotations

import ssl
import weakref
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

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
