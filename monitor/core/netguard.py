"""One deadline and one address policy for every socket the product opens, whichever client opens it.

Per-operation timeouts do not bound a request: a server trickling a byte every few seconds never trips a
read timeout, and each client (httpx, tweepy's `requests`, slack_sdk's `urllib`, `websockets`) has its own
idea of "timeout". So the bound is enforced below all of them. A `guard(seconds, trusted=…)` block arms a
deadline on the calling thread; every socket that thread connects inside the block is registered with it (a
`socket.connect` audit hook sees each connect, from any library), and when the deadline passes one watchdog
thread shuts those sockets down, which wakes a read blocked in the kernel. The client then fails with its
own network error, which the caller reports as "no complete answer within the deadline".

Guards nest (a reply attempt's guard around the guard of the token grant it makes), and an outer deadline bounds
everything inside it: an inner guard is due at the earlier of its own deadline and its enclosing guard's, and an
outer guard that fires or is cancelled fires or cancels the guards opened inside it. Until round 22 a firing
reached only the sockets attached to the outer guard itself, so a token endpoint trickling its answer under the
grant's own, longer deadline held the reply attempt past the attempt's deadline (and towards its claim's end).

A DNS lookup has no socket for the watchdog to shut: core/dnsguard runs a guarded lookup in a worker thread
that the guard's firing (or cancelling) stops waiting for, and hands the caller that one answer.

The same hook is the address policy. It sees the address a socket actually connects to, after DNS, so the
check cannot be raced by DNS rebinding (the address checked is the address used; nothing resolves twice).
Inside a guard, a connection to an address that is not `is_global` (loopback, RFC 1918, link-local, CGNAT
100.64.0.0/10, documentation ranges, ...) is refused unless it is the host the operator configured
(`trusted`: its address, on its port or 80/443, so an internal http -> https redirect still works), a proxy
named in the environment (`HTTPS_PROXY`…), or `allow_private` is set. A redirect into an internal service is thereby refused
for every transport, including a WebSocket library that follows redirects by itself.
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import os
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol


class AddressRefused(ConnectionRefusedError):
    """A connection to a non-global address that nobody configured; an OSError, so every client reports it
    as its usual connection error (with this message)."""


def is_global_ip(value: str) -> bool:
    """True for an address on the public internet (not loopback, private, CGNAT, link-local, reserved…)."""
    try:
        ip = ipaddress.ip_address(value.split("%")[0].strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return bool(ip.is_global) and not ip.is_multicast


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


class Waker(Protocol):
    """What a wait no socket shutdown reaches gives its guard: a `threading.Event`, or anything whose `set()`
    ends the wait (core/dnsguard's lookup; a host slot wait in sources/politeness). `set()` is called with the
    guard's lock held: it must not call back into the guard."""

    def set(self) -> None: ...


class Guard:
    """One armed deadline and address policy: knows the sockets of its block, shuts them down if it fires."""

    def __init__(self, trusted: Iterable[str] = (), allow_private: bool = False) -> None:
        self.fired = False
        self.cancelled = False                  # `cancel()`ed from another thread (a stop), not timed out
        self.refused: list[str] = []
        self.last_refused = False               # the latest connect in this block was refused (see `_audit`)
        self.trusted_urls = [u for u in trusted if u]
        self.allow_private = allow_private
        self.outer: Guard | None = None          # the guard this block is nested in (see `_audit`)
        self.due = float("inf")                  # time.monotonic() it fires at: never after `outer`'s (`guard`)
        self.started = 0.0                       # time.monotonic() it was armed at
        self.seconds = float("inf")              # the deadline its own code asked for (`guard(seconds)`)
        self._trusted: set[tuple[str, int]] | None = None
        self._sockets: list[socket.socket] = []
        self._inner: list[Guard] = []           # guards opened inside this one's block: its fire/cancel reach them
        self._held: list[socket.socket] = []    # duplicates of the sockets connected in the block (`hold`)
        self._wakers: list[Waker] = []     # waits that are not on a socket (DNS lookup, host slot: see Waker)
        self._lock = threading.Lock()

    def ruling(self) -> Guard:
        """The guard whose own deadline this one is due at: itself, or the enclosing guard whose earlier
        deadline bounds it. A cut is reported with the deadline it came from: a fetch cut by a reply attempt's
        1 s deadline said "within the fetch deadline (10s)", its own, which the user could not reconcile."""
        g = self
        while g.outer is not None and g.due < g.started + g.seconds:
            g = g.outer
        return g

    def deadline_said(self, own: float, name: str = "fetch") -> str:
        """The deadline a cut of this block came from, as a message says it: "the fetch deadline (10s)" with
        `own` (how the caller states its own deadline: the whole fetch's, not this hop's remainder) when this
        guard's own deadline ruled, else "an enclosing deadline (1s)" with that guard's own seconds."""
        ruling = self.ruling()
        if ruling is self:
            return f"the {name} deadline ({own:g}s)"
        return f"an enclosing deadline ({ruling.seconds:g}s)"

    def trust(self, url: str) -> None:
        """Trust one more origin inside this block: a URL the configured service itself handed out (Slack's
        Socket Mode answers `apps.connections.open` with the WebSocket to connect to)."""
        if url:
            self.trusted_urls.append(url)
            self._trusted = None

    def allowed(self, ip: str, port: int) -> bool:
        if self.allow_private or is_global_ip(ip):
            return True
        if self._trusted is None:              # resolved lazily: only a non-global address needs it
            urls = self.trusted_urls + _proxies()
            self._trusted = set().union(*(origins_of(u) for u in urls)) if urls else set()
        return (_norm(ip), port) in self._trusted

    def wake_on_end(self, event: Waker) -> bool:
        """Set `event` when this block fires or is cancelled (False, and nothing kept, if it already has): a
        wait that no socket shutdown can reach ends with the block's sockets."""
        with self._lock:
            if self.fired or self.cancelled:
                return False
            self._wakers.append(event)
            return True

    def forget_waker(self, event: Waker) -> None:
        with self._lock:
            if event in self._wakers:
                self._wakers.remove(event)

    def attach(self, sock: Any) -> None:
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            if self.fired or self.cancelled:
                _shutdown(sock)
            else:
                self._sockets.append(sock)

    def hold(self, sock: socket.socket) -> None:
        """A socket being connected, held by a duplicate descriptor until the block ends: TLS wrapping
        (`ssl.wrap_socket`, as http.client, urllib3 and httpcore do it) detaches the object the connect hook
        saw, and a shutdown through that object would reach nothing (regression: a server that finished the
        TLS handshake, then trickled, was never cut for tweepy, slack_sdk or a webhook over https). The
        duplicate names the same connection whatever object wraps it later. It is made from the descriptor,
        not `sock.dup()`, which an `ssl.SSLSocket` refuses (NotImplementedError): a kept-alive TLS connection
        reused from urllib3's pool is held the same way (core/pooled, `GuardedHTTPSConnection`)."""
        try:
            dup = socket.socket(sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno()))
        except OSError:
            self.attach(sock)
            return
        with self._lock:
            self._held.append(dup)
        self.attach(dup)

    def release(self) -> None:
        """The block is over: close the duplicates (the clients' own descriptors stay open, pooled or not)."""
        with self._lock:                        # not while `fire` shuts them down
            for dup in self._held:
                dup.close()
            self._held = []

    def fire(self) -> None:
        """The deadline passed: shut the block's sockets, and those of every guard opened inside it (their own
        deadlines may be later; this one bounds them). `fired` is set on each, so a request cut under an inner
        guard reports the deadline; the outer block sees its own `fired` as before."""
        with self._lock:
            self.fired = True
            for s in self._sockets:
                _shutdown(s)
            for e in self._wakers:
                e.set()
            inner = list(self._inner)
        for g in inner:
            g.fire()

    def cancel(self) -> None:
        """From another thread: what the deadline does, now (a stop that cannot wait for a stalled handshake).
        Sockets connected later in the block are shut down as they connect; `fired` stays False, so the
        caller can tell its own stop from a server's silence. Guards opened inside the block (a capped `fetch`
        has its own) are cancelled too: a stop reaches the request a block makes, whoever armed its deadline."""
        with self._lock:
            self.cancelled = True
            for s in self._sockets:
                _shutdown(s)
            for e in self._wakers:
                e.set()
            inner = list(self._inner)
        for g in inner:
            g.cancel()

    def _enter(self, inner: Guard) -> None:
        """`inner` is opened inside this block: cancelled (fired) now if this one is, else when this one is."""
        with self._lock:
            cancelled, fired = self.cancelled, self.fired
            if not (cancelled or fired):
                self._inner.append(inner)
                return
        if cancelled:
            inner.cancel()
        else:
            inner.fire()

    def _leave(self, inner: Guard) -> None:
        with self._lock:
            if inner in self._inner:
                self._inner.remove(inner)


def _norm(ip: str) -> str:
    try:
        addr = ipaddress.ip_address(ip.split("%")[0].strip("[]"))
    except ValueError:
        return ip
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return str(addr)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


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
