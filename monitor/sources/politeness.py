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
                 sleep: Callable[[float], None] | None = None, monotonic: Callable[[], float] = time.monotonic):
        self.concurrency = concurrency
        self.interval = interval
        self._sleep = sleep          # a test's fake clock; None: the gap is waited on the host's slots (`_Slots`)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._slots: dict[str, _Slots] = {}
        self._next_start: dict[str, float] = {}
        self._blocked_until: dict[str, float] = {}     # epoch seconds, from Retry-After & co.

    @contextmanager
    def slot(self, host: str, now: float | None = None, deadline: float | None = None) -> Iterator[None]:
        """Hold one of the host's request slots, starting no sooner than `interval` after the previous one.

        Both waits, for a free slot and for the host's gap, are bounded like the request they precede: by
        `deadline` (a `time.monotonic()` time, the caller's own, e.g. the whole fetch's) and by the guard this
        thread is in (`netguard.current`, e.g. a reply attempt's around its token grant). A slot not free by
        then, or a gap that would end after it, fails (the gap at once, without sleeping), without holding a
        slot or taking the host's next start, with the FetchError a cut gives (regression: the waits ran to
        their end, so a request waited past its deadline before it was even sent). The guard's cancel (a stop)
        ends either wait at once, the same way (regression: a stop waited for the slot until the deadline)."""
        host = host.lower()
        now = time.time() if now is None else now
        with self._lock:
            until = self._blocked_until.get(host)
            if until and until > now:
                raise RateLimited(f"{host} asked us to wait; not asking again before it said", retry_at=until)
            slots = self._slots.setdefault(host, _Slots(self.concurrency))
        with slots.woken_by_guard() as wake:
            slots.take(host, _ends(deadline), wake)
            try:
                with self._lock:
                    mono = self._monotonic()
                    before = self._next_start.get(host, 0.0)
                    start = max(mono, before)
                    _within_deadline(host, start - mono, deadline)
                    self._next_start[host] = start + self.interval
                if start > mono:
                    if self._sleep is not None:
                        self._sleep(start - mono)
                    elif not slots.pause(start - mono, wake):
                        with self._lock:          # the start not used goes back, unless a later one was taken
                            if self._next_start.get(host) == start + self.interval:
                                self._next_start[host] = before
                        raise FetchError(f"not sent to {host}: {_why(wake)} while waiting for the host gap")
                _request_going_out()
                yield
            finally:
                slots.give()

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


class _Wake:
    """Given to the thread's guard (`Guard.wake_on_end`): set when it fires or is cancelled, which wakes every
    wait on the host's slots, so the waiter of that guard sees it at once (a semaphore cannot be woken)."""

    def __init__(self, cond: threading.Condition, guard: Guard | None) -> None:
        self._cond = cond
        self.guard = guard
        self.ended = False

    def set(self) -> None:
        with self._cond:
            self.ended = True
            self._cond.notify_all()


class _Slots:
    """A host's `concurrency` request slots: a counting semaphore on a condition, so that a wait for a slot or
    for the gap ends at the deadline or when the waiter's guard ends, whichever is first."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.busy = 0
        self._cond = threading.Condition()

    @contextmanager
    def woken_by_guard(self) -> Iterator[_Wake]:
        guard = netguard.current()
        wake = _Wake(self._cond, guard)
        if guard is not None and not guard.wake_on_end(wake):
            wake.ended = True               # already fired or cancelled: no wait at all
        try:
            yield wake
        finally:
            if guard is not None:
                guard.forget_waker(wake)

    def take(self, host: str, until: float, wake: _Wake) -> None:
        """One slot, or FetchError at `until` (`time.monotonic()`) or when `wake` ends, holding nothing.

        Regression: the acquire blocked with no bound, so a poll queued behind the host's busy requests (a third
        fetch of a trickling host with `per_host_concurrency: 2`) waited for theirs to end before its own
        deadline even started. A free slot is taken even when the deadline has passed (the request's own guard
        cuts it); a stop takes none."""
        left = until - time.monotonic()
        with self._cond:
            while self.busy >= self.concurrency and not wake.ended:
                wait = until - time.monotonic()
                if wait <= 0:
                    break
                self._cond.wait(None if wait == float("inf") else wait)
            if wake.ended and wake.guard is not None and wake.guard.cancelled:
                raise FetchError(f"not sent to {host}: stopping while waiting for a request slot")
            if self.busy < self.concurrency:
                self.busy += 1
                return
        raise FetchError(f"not sent to {host}: no free request slot within the deadline (all {self.concurrency} "
                         f"busy for the {max(left, 0.0):.1f}s left)")

    def pause(self, seconds: float, wake: _Wake) -> bool:
        """Wait `seconds` (the host's gap) holding a slot; False if the waiter's guard ended first."""
        end = time.monotonic() + seconds
        with self._cond:
            while not wake.ended:
                left = end - time.monotonic()
                if left <= 0:
                    return True
                self._cond.wait(left)
        return False

    def give(self) -> None:
        with self._cond:
            self.busy -= 1
            self._cond.notify_all()


def _why(wake: _Wake) -> str:
    return "stopping" if wake.guard is not None and wake.guard.cancelled else "cut at the deadline"


def _ends(deadline: float | None) -> float:
    """The earlier of the caller's own `deadline` and the current guard's (`time.monotonic()`; inf: none)."""
    guard = netguard.current()
    return min(deadline if deadline is not None else float("inf"), guard.due if guard is not None else float("inf"))


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
