"""The host-aware pool under `PollDispatcher`: a fixed set of worker threads, the waiting lines per host and
the loop that starts a due poll only where a worker, the host's slot and its politeness gap all allow.

Apart from the schedule and the cron round (`dispatch`) because this is the part with the locking: every
attribute below is read and written under `_cond`, by the loop thread and by the workers ending their polls.
Why threads and not asyncio, and what each rule buys, is in `dispatch`'s docstring. It logs as
`monitor.runtime.dispatch`, the name it had before the split.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from monitor.sources import SourceOptions
from monitor.sources.politeness import HostLimiter

log = logging.getLogger("monitor.runtime.dispatch")     # its name before the split: ops filter on it

Poll = Callable[[SourceOptions], Any]


def poll_host(source: SourceOptions) -> str:
    """The host a source's requests go to (the key the per-host limits use); its kind when it has none."""
    for key in ("url", "api_url"):
        value = getattr(source, key, None)
        if isinstance(value, str) and value:
            return urlsplit(value).netloc.lower() or value
    instances = getattr(source, "instances", None)
    if instances:
        return urlsplit(str(instances[0])).netloc.lower()
    return f"{source.kind}:"


@dataclass(eq=False)
class _Entry:
    source: SourceOptions
    host: str
    due: float
    once: bool = False
    running: bool = False
    waiting: bool = False
    result: Any = None
    removed: bool = False
    until: float = 0.0        # cron: asked again (not its turn yet: `retry_in`) until then, then given up


class _Workers:
    """At most `size` daemon threads, started on demand: a hung poll abandoned by the drain never blocks exit."""

    def __init__(self, size: int, name: str):
        self.size = size
        self.name = name
        self._tasks: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, task: Callable[[], None]) -> None:
        with self._lock:
            if self._idle == 0 and len(self._threads) < self.size:
                t = threading.Thread(target=self._run, name=f"{self.name}-{len(self._threads)}", daemon=True)
                self._threads.append(t)
                t.start()
            else:
                self._idle -= 1
        self._tasks.put(task)

    def _run(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            try:
                task()
            finally:
                with self._lock:
                    self._idle += 1

    def stop(self) -> None:
        with self._lock:
            n = len(self._threads)
        for _ in range(n):
            self._tasks.put(None)


class HostAwarePool:
    """The workers, the per-host lines and the dispatcher loop; `PollDispatcher` adds the schedule."""

    DRIFT_KEPT = 20_000

    def __init__(self, poll: Poll, *, max_concurrent: int, per_host_concurrency: int,
                 limiter: HostLimiter | None = None, on_overlap: Callable[[str], None] | None = None,
                 on_drift: Callable[[float], None] | None = None, rng: random.Random | None = None,
                 monotonic: Callable[[], float] = time.monotonic, name: str = "poll"):
        self.poll = poll
        self.max_concurrent = max(1, max_concurrent)
        self.per_host_concurrency = max(1, per_host_concurrency)
        self.limiter = limiter
        self.on_overlap = on_overlap
        self.on_drift = on_drift
        self.rng = rng or random.Random()
        self.monotonic = monotonic
        self.drifts: deque[float] = deque(maxlen=self.DRIFT_KEPT)
        self._workers = _Workers(self.max_concurrent, name)
        self._cond = threading.Condition()
        self._entries: dict[str, _Entry] = {}
        self._timeline: list[tuple[float, int, str]] = []        # (due, tie-break, source id)
        self._waiting: dict[str, deque[_Entry]] = {}             # due, by host, oldest first; dict order = age
        self._inflight: dict[str, int] = {}
        self._hold: dict[str, tuple[float, _Entry]] = {}         # host -> no new poll before, held by this one
        self._busy = 0
        self._seq = itertools.count()
        self._stop = threading.Event()
        self._halt: threading.Event | None = None   # the caller's stop too (`run_round`): looked at before each start
        self._thread: threading.Thread | None = None
        self._saturated = False
        self._finished: dict[str, _Entry] = {}
        self._once_left = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="poll-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """No new polls from now on; polls in progress finish (or are abandoned) on their own."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._workers.stop()

    @property
    def in_progress(self) -> int:
        return self._busy

    def _halted(self) -> bool:
        return self._stop.is_set() or (self._halt is not None and self._halt.is_set())

    # -- the dispatcher loop ----------------------------------------------------------------------------------
    def _loop(self) -> None:
        with self._cond:
            while not self._halted():
                now = self.monotonic()
                self._collect_due(now)
                wait = self._dispatch(now)
                if self._timeline:
                    wait = min(wait, self._timeline[0][0] - now)
                self._cond.wait(max(0.001, min(wait, 5.0)))

    def _collect_due(self, now: float) -> None:
        """Move every due source from the timeline to its host's waiting line (or count it as overlapped)."""
        while self._timeline and self._timeline[0][0] <= now:
            due, _, sid = heapq.heappop(self._timeline)
            entry = self._entries.get(sid)
            if entry is None or entry.due != due or entry.waiting or entry.removed:
                continue                                    # superseded or removed
            if entry.running:
                # its previous poll is still going: skip this slot, like APScheduler's max_instances=1
                entry.due = due + self._every(entry)
                heapq.heappush(self._timeline, (entry.due, next(self._seq), sid))
                if self.on_overlap:
                    self._call(self.on_overlap, sid)
                continue
            entry.waiting = True
            self._waiting.setdefault(entry.host, deque()).append(entry)

    def _dispatch(self, now: float) -> float:
        """Start what may start; return how long until a held host may take its next poll."""
        wait = 5.0
        if self._waiting and self._busy >= self.max_concurrent:
            if not self._saturated:
                self._saturated = True
                log.warning("all poll workers busy: due polls are waiting (raise daemon.max_concurrent_polls if "
                            "this persists)", extra={"workers": self.max_concurrent,
                                                      "waiting": sum(len(q) for q in self._waiting.values())})
            return wait
        for host in list(self._waiting):
            line = self._waiting[host]
            while line and self._busy < self.max_concurrent:
                if self._inflight.get(host, 0) >= self.per_host_concurrency:
                    break                                   # woken again when one of its polls ends
                ready_in = max(self._hold[host][0] - now if host in self._hold else 0.0,
                               self.limiter.ready_in(host) if self.limiter else 0.0)
                if ready_in > 0:
                    wait = min(wait, ready_in)
                    break
                if self._halted():
                    return wait                             # a signal's stop: not one more poll starts
                entry = line.popleft()
                if entry.removed:
                    entry.waiting = False
                    continue
                self._start(entry, now)
            if not line:
                del self._waiting[host]
            if self._busy >= self.max_concurrent:
                break
        if not self._waiting:
            self._saturated = False
        return wait

    def _start(self, entry: _Entry, now: float) -> None:
        entry.waiting = False
        entry.running = True
        drift = max(0.0, now - entry.due)
        self.drifts.append(drift)
        if self.on_drift:
            self._call(self.on_drift, drift)
        self._busy += 1
        self._inflight[entry.host] = self._inflight.get(entry.host, 0) + 1
        interval = self.limiter.interval if self.limiter else 0.0
        if interval:
            self._hold[entry.host] = (now + interval, entry)    # until this poll has made its request or ended
        if not entry.once and not entry.removed:
            entry.due = now + self._every(entry)
            heapq.heappush(self._timeline, (entry.due, next(self._seq), entry.source.id))
        self._workers.submit(lambda: self._run(entry))

    def _run(self, entry: _Entry) -> None:
        result = None
        try:
            result = self.poll(entry.source)
        except Exception:  # noqa: BLE001 - one source's bug never stops the dispatcher
            log.exception("poll crashed", extra={"source_id": entry.source.id})
        finally:
            with self._cond:
                entry.running = False
                entry.result = result
                resync = getattr(result, "retry_in", None)   # replicas: the shared schedule says when it is due
                # cron on replicas: a host busy on another box is asked again (that box may die mid-poll, or
                # finish it: then it is taken), for one `every` at most, then the pass says it was not polled
                current = self._entries.get(entry.source.id) is entry
                again = current and entry.once and resync is not None and self.monotonic() + resync < entry.until
                if resync is not None and current and (again or not entry.once):
                    entry.due = self.monotonic() + resync
                    heapq.heappush(self._timeline, (entry.due, next(self._seq), entry.source.id))
                self._busy -= 1
                left = self._inflight.get(entry.host, 1) - 1
                if left:
                    self._inflight[entry.host] = left
                else:
                    self._inflight.pop(entry.host, None)
                if self._hold.get(entry.host, (0.0, None))[1] is entry:
                    del self._hold[entry.host]                 # the limiter now knows when the host may be asked
                if entry.once and not again:
                    entry.once = False
                    self._once_left -= 1
                    self._finished[entry.source.id] = entry
                    self._entries.pop(entry.source.id, None)
                self._cond.notify_all()

    def _every(self, entry: _Entry) -> float:
        every = float(entry.source.every)
        jitter = min(30.0, every * 0.05)
        return every + (self.rng.uniform(-jitter, jitter) if jitter else 0.0)

    @staticmethod
    def _call(fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - a metrics or logging hiccup never stops the dispatcher
            log.exception("dispatcher callback failed")
