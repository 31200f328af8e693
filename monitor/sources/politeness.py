"""Per-host manners and a hard wall-clock deadline for fetches.

`HostLimiter`: many sources often share a host (ten Google News searches, five subreddits). Each host gets
at most `concurrency` requests in flight and a minimum gap between request starts; a host that answered 429
or 503 with a reset time is not asked again (by any source) before then.

`Watchdog`: httpx's read timeout restarts at every chunk, so a server that trickles a byte every few seconds
never trips it. The watchdog shuts the socket down when the fetch's deadline passes, which wakes a read that
is blocked in the kernel; the fetch then reports "deadline" however the server behaves.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from monitor.core.errors import RateLimited


class HostLimiter:
    def __init__(self, concurrency: int = 2, interval: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic):
        self.concurrency = concurrency
        self.interval = interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}
        self._blocked_until: dict[str, float] = {}     # epoch seconds, from Retry-After & co.

    @contextmanager
    def slot(self, host: str, now: float | None = None) -> Iterator[None]:
        """Hold one of the host's request slots, starting no sooner than `interval` after the previous one."""
        host = host.lower()
        now = time.time() if now is None else now
        with self._lock:
            until = self._blocked_until.get(host)
            if until and until > now:
                raise RateLimited(f"{host} asked us to wait; not asking again before it said", retry_at=until)
            sem = self._slots.setdefault(host, threading.BoundedSemaphore(self.concurrency))
        with sem:
            with self._lock:
                mono = self._monotonic()
                start = max(mono, self._next_start.get(host, 0.0))
                self._next_start[host] = start + self.interval
            if start > mono:
                self._sleep(start - mono)
            yield

    def ready_in(self, host: str) -> float:
        """Seconds before `host` may be asked again (its minimum gap); 0 when now. Lets a dispatcher send its
        workers elsewhere instead of having them sleep in `slot`."""
        with self._lock:
            return max(0.0, self._next_start.get(host.lower(), 0.0) - self._monotonic())

    def block(self, host: str, until: float | None) -> None:
        """Remember that `host` asked for quiet until `until` (epoch seconds)."""
        if until:
            with self._lock:
                host = host.lower()
                self._blocked_until[host] = max(until, self._blocked_until.get(host, 0.0))


class _Guard:
    """One armed deadline: knows the sockets of its fetch, shuts them down if it fires."""

    def __init__(self) -> None:
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def attach(self, sock: Any) -> None:
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            if self.fired:
                _shutdown(sock)
            else:
                self._sockets.append(sock)

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's `trace` extension: learn the socket as soon as the connection (or TLS) is up."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            if stream is not None:
                self.attach(stream.get_extra_info("socket"))

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            for s in self._sockets:
                _shutdown(s)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class Watchdog:
    """One thread for every deadline in the process (a timer thread per fetch would be wasteful)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Guard]] = []
        self._live: set[int] = set()
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    @contextmanager
    def guard(self, seconds: float) -> Iterator[_Guard]:
        g = _Guard()
        key = next(self._ids)
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, key, g))
            self._live.add(key)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="fetch-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
        try:
            yield g
        finally:
            with self._cond:
                self._live.discard(key)

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
