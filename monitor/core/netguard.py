"""One deadline and one address policy for every socket the product opens, whichever client opens it.

Per-operation timeouts do not bound a request: a server trickling a byte every few seconds never trips a
read timeout, and each client (httpx, tweepy's `requests`, slack_sdk's `urllib`, `websockets`) has its own
idea of "timeout". So the bound is enforced below all of them. A `guard(seconds, trusted=…)` block arms a
deadline on the calling thread; every socket that thread connects inside the block is registered with it (a
`socket.connect` audit hook sees each connect, from any library), and when the deadline passes one watchdog
thread shuts those sockets down, which wakes a read blocked in the kernel. The client then fails with its
own network error, which the caller reports as "no complete answer within the deadline".

A DNS lookup has no socket for the watchdog to shut: core/dnsguard runs a guarded lookup in a worker thread
that the guard's firing (or cancelling) stops waiting for, and hands the caller that one answer.

The same hook applies the address policy (core/netpolicy) to the address each socket actually connects to.

The guard record itself (its deadline arithmetic, what its firing reaches) is core/guardrecord; the names
callers use (`WATCHDOG`, `Guard`, `current`, the policy's helpers) stay importable from here.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from monitor.core.guardrecord import Guard, Waker
from monitor.core.netpolicy import AddressRefused, addresses_of, host_of, is_global_ip, origins_of

__all__ = ["WATCHDOG", "AddressRefused", "Guard", "Waker", "Watchdog", "addresses_of", "current", "host_of",
           "install", "is_global_ip", "origins_of"]


_local = threading.local()


def current() -> Guard | None:
    return getattr(_local, "guard", None)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """`socket.connect` from any library, on the connecting thread: apply the guard's policy, then attach."""
    if event != "socket.connect":
        return
    g = getattr(_local, "guard", None)
    if g is None:
        return
    sock, address = args[0], args[1]
    if not isinstance(address, tuple) or not address or getattr(sock, "family", None) not in (
            socket.AF_INET, socket.AF_INET6):
        return
    if g.cancelled:
        raise ConnectionAbortedError("connection cancelled: stopping")
    ip = str(address[0])
    allowed = g.allowed(ip, int(address[1]) if len(address) > 1 else 0)
    outer: Guard | None = g              # every enclosing block learns it too: a reply attempt wrapping a token
    while outer is not None:             # grant's own guarded fetch must know its failure was this refusal
        outer.last_refused = not allowed     # and whether the client went on to an allowed address after it
        if not allowed:
            outer.refused.append(ip)
        outer = outer.outer
    if not allowed:
        raise AddressRefused(f"connection to {ip} refused: not a public address and not a configured host "
                             "(a redirect into an internal network?); set http.allow_private: true if intended")
    g.hold(sock)


_installed = False
_install_lock = threading.Lock()


def install() -> None:
    """Install the audit hook once per process (hooks cannot be removed; it costs one call per audit event),
    and bound DNS lookups by the guard (core/dnsguard; checked at every guard, see `dnsguard.wrap`)."""
    global _installed
    from monitor.core import dnsguard

    with _install_lock:
        dnsguard.wrap()
        if not _installed:
            sys.addaudithook(_audit)
            _installed = True


class Watchdog:
    """One thread for every deadline in the process (a timer thread per request would be wasteful)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Guard]] = []
        self._live: set[int] = set()
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    @contextmanager
    def guard(self, seconds: float, trusted: Iterable[str] = (), allow_private: bool = False) -> Iterator[Guard]:
        """Arm a deadline of `seconds` (and the address policy) for everything this thread connects inside.
        Inside another guard the block is due at the earlier of the two deadlines: an enclosing deadline bounds
        every request made under it, whatever deadline that request's own code arms."""
        install()
        g = Guard(trusted, allow_private)
        g.outer = getattr(_local, "guard", None)
        g.started, g.seconds = time.monotonic(), seconds
        g.due = g.started + seconds
        if g.outer is not None:
            g.due = min(g.due, g.outer.due)
        key = next(self._ids)
        with self._cond:
            heapq.heappush(self._heap, (g.due, key, g))
            self._live.add(key)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="net-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
        previous = getattr(_local, "guard", None)
        if previous is not None:
            previous._enter(g)
        _local.guard = g
        try:
            yield g
        finally:
            _local.guard = previous
            if previous is not None:
                previous._leave(g)
            with self._cond:
                self._live.discard(key)
            g.release()

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(30)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                due, key, g = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                self._live.discard(key)
                g.fire()


WATCHDOG = Watchdog()
