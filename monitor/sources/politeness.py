"""Per-host manners and a hard wall-clock deadline for fetches.

`HostLimiter`: many sources often share a host (ten Google News searches, five subreddits). Each host gets
at most `concurrency` requests in flight and a minimum gap between request starts; a host that answered 429
or 503 with a reset time is not asked again (by any source) before then.

`WATCHDOG` (`monitor.core.netguard`): read timeouts restart at every chunk, so a server that trickles a byte
every few seconds never trips them. The watchdog shuts every socket of a guarded block down when its
deadline passes, whichever client opened it; the fetch then reports "deadline" however the server behaves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from monitor.core import netguard
from monitor.core.errors import FetchError, RateLimited
from monitor.core.netguard import WATCHDOG, Guard, Watchdog


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
    def slot(self, host: str, now: float | None = None, deadline: float | None = None) -> Iterator[None]:
        """Hold one of the host's request slots, starting no sooner than `interval` after the previous one.

        Both waits, for a free slot (`_acquire`) and for the host's gap, are bounded like the request they
        precede: by `deadline` (a `time.monotonic()` time, the caller's own, e.g. the whole fetch's) and by the
        guard this thread is in (`netguard.current`, e.g. a reply attempt's around its token grant). A slot not
        free by then, or a gap that would end after it, fails (the gap at once, without sleeping), without
        holding a slot or taking the host's next start, with the FetchError a cut gives (regression: the
        waits ran to their end, so a request waited past its deadline before it was even sent)."""
        host = host.lower()
        now = time.time() if now is None else now
        with self._lock:
            until = self._blocked_until.get(host)
            if until and until > now:
                raise RateLimited(f"{host} asked us to wait; not asking again before it said", retry_at=until)
            sem = self._slots.setdefault(host, threading.BoundedSemaphore(self.concurrency))
        _acquire(sem, host, self.concurrency, deadline)
        try:
            with self._lock:
                mono = self._monotonic()
                start = max(mono, self._next_start.get(host, 0.0))
                _within_deadline(host, start - mono, deadline)
                self._next_start[host] = start + self.interval
            if start > mono:
                self._sleep(start - mono)
            _request_going_out()
            yield
        finally:
            sem.release()

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


def _ends(deadline: float | None) -> float:
    """The earlier of the caller's own `deadline` and the current guard's (`time.monotonic()`; inf: none)."""
    guard = netguard.current()
    return min(deadline if deadline is not None else float("inf"), guard.due if guard is not None else float("inf"))


def _acquire(sem: threading.BoundedSemaphore, host: str, concurrency: int, deadline: float | None) -> None:
    """Take one of the host's slots, waiting no later than the deadline `_within_deadline` bounds the gap by.

    Regression: the acquire blocked with no bound, so a poll queued behind the host's busy requests (a third
    fetch of a trickling host with `per_host_concurrency: 2`) waited for theirs to end before its own deadline
    even started. A failed acquire holds nothing (nothing to release, no start taken); the FetchError says
    it as the gap wait does, and the poll reports it like a cut."""
    left = _ends(deadline) - time.monotonic()
    if left == float("inf"):
        got = sem.acquire()
    else:
        got = sem.acquire(timeout=left) if left > 0 else sem.acquire(blocking=False)
    if not got:
        raise FetchError(f"not sent to {host}: no free request slot within the deadline (all {concurrency} "
                         f"busy for the {max(left, 0.0):.1f}s left)")


def _within_deadline(host: str, wait: float, deadline: float | None) -> None:
    """Raise when waiting `wait` seconds for `host`'s gap would end after `deadline` or the current guard's.

    `wait` is measured on the limiter's clock (injectable), the time left on `time.monotonic()`, the clock
    every deadline and guard is on: both are durations from now, so they compare."""
    if wait <= 0:
        return
    left = _ends(deadline) - time.monotonic()
    if wait > left:
        raise FetchError(f"not sent to {host}: the host gap would outlast the deadline ({wait:.1f}s to wait, "
                         f"{max(left, 0.0):.1f}s left)")


_hooks = threading.local()


@contextmanager
def on_first_request(callback: Callable[[], None]) -> Iterator[None]:
    """Within the block, `callback` runs once, in this thread, when the first request is about to leave (its
    host slot granted, after any politeness wait).

    Why: among replicas a poll's source is due again `every` after the request the host actually saw. A
    replica killed after claiming a poll but before its request left (waiting out a host's gap, say) must not
    push the feed's next poll a whole `every` away. Kinds that send through a `HostLimiter` (every HTTP kind)
    call it; the caller marks the request as sent at poll end anyway for the others."""
    previous = getattr(_hooks, "pending", None)
    _hooks.pending = [callback]
    try:
        yield
    finally:
        _hooks.pending = previous


def _request_going_out() -> None:
    pending = getattr(_hooks, "pending", None)
    if pending:
        pending.pop()()


# The deadline and address guard lives in core (the Slack sender, below sources, uses it too).
__all__ = ["WATCHDOG", "Guard", "HostLimiter", "Watchdog", "on_first_request"]
