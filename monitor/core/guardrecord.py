"""The guard record: one armed deadline, the sockets and waits of its block, and what its firing reaches.

Guards nest (a reply attempt's guard around the guard of the token grant it makes), and an outer deadline bounds
everything inside it: an inner guard is due at the earlier of its own deadline and its enclosing guard's, and an
outer guard that fires or is cancelled fires or cancels the guards opened inside it. Until round 22 a firing
reached only the sockets attached to the outer guard itself, so a token endpoint trickling its answer under the
grant's own, longer deadline held the reply attempt past the attempt's deadline (and towards its claim's end).

Kept apart from core/netguard, which arms guards (the watchdog thread) and feeds them (the connect hook): this
is the record those two share, with no thread or hook of its own. Import it from core/netguard, as callers do.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterable
from typing import Any, Protocol

from monitor.core.netpolicy import _norm, _proxies, is_global_ip, origins_of


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
        for g in self._end("fired"):
            g.fire()

    def cancel(self) -> None:
        """From another thread: what the deadline does, now (a stop that cannot wait for a stalled handshake).
        Sockets connected later in the block are shut down as they connect; `fired` stays False, so the
        caller can tell its own stop from a server's silence. Guards opened inside the block (a capped `fetch`
        has its own) are cancelled too: a stop reaches the request a block makes, whoever armed its deadline."""
        for g in self._end("cancelled"):
            g.cancel()

    def _end(self, flag: str) -> list[Guard]:
        """Set `flag` (fired or cancelled), shut the sockets, wake the waiters; the guards inside, to end the same way."""
        with self._lock:
            setattr(self, flag, True)
            for s in self._sockets:
                _shutdown(s)
            for e in self._wakers:
                e.set()
            return list(self._inner)

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



def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
