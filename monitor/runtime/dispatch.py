"""Polling thousands of sources on a bounded pool: a schedule, a host-aware dispatcher, a fixed set of workers.

Why threads and not asyncio. Everything a poll does after the socket is synchronous and mostly CPU or
SQLite: the hardened fetch (`fetch.py`: deadline watchdog, bounded inflation, checked redirects), feedparser,
the single-connection store, matching and scoring. An asyncio fast path would duplicate `fetch.py` for
httpx.AsyncClient and still hand parsing and storage to threads; the GIL would serialise them anyway. What
actually piled up before was one *idle* thread per source (5,000 sources = 5,000 threads, each with a stack).
So the cost model here is a thread per poll *in progress*, never per source:

- a schedule (one heap entry per source, a few hundred bytes) says when each source is due;
- a dispatcher thread hands due polls to at most `daemon.max_concurrent_polls` workers, oldest first, and only
  to a host that has a free slot (`http.per_host_concurrency` polls in flight) and whose minimum gap
  (`http.per_host_interval`, from the shared `HostLimiter`) has passed: a worker never sits waiting for
  politeness while another host's sources are due, and a busy host cannot starve the others;
- a hung source costs one worker until `http.deadline` (the watchdog ends its fetch), never more; the pool is
  sized far above the number of sources that can hang at once, so the others still start on time. When every
  worker is busy the dispatcher says so in the log once per episode and the lag shows in the drift figures;
- a source is never polled twice at once: a slot that comes while its previous poll is still running is
  skipped and reported through `on_overlap` (APScheduler's `max_instances=1` semantics, kept);
- the next due time is the poll's actual start plus `every` (± a little jitter): a source waiting behind its
  host's politeness gap spreads out by itself instead of bunching up with its neighbours every round;
- schedule drift (actual start minus due time) is reported for every poll (`on_drift`) and kept for the last
  20,000 polls, for `make bench` and `monitor status`.

`run_round` is cron mode: every source due now, each polled exactly once on the same machinery.
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from monitor.sources import SourceOptions
from monitor.sources.politeness import HostLimiter

log = logging.getLogger(__name__)

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


class PollDispatcher:
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
        self._thread: threading.Thread | None = None
        self._saturated = False
        self._finished: dict[str, _Entry] = {}
        self._once_left = 0

    # -- schedule -----------------------------------------------------------------------------------------
    def add(self, source: SourceOptions, first_due: float | None = None, *, once: bool = False) -> None:
        due = self.monotonic() if first_due is None else first_due
        with self._cond:
            entry = _Entry(source, poll_host(source), due, once=once, until=due + float(source.every))
            self._once_left += once
            self._entries[source.id] = entry
            heapq.heappush(self._timeline, (due, next(self._seq), source.id))
            self._cond.notify()

    def remove(self, source_id: str) -> bool:
        """A source taken out of the config: no new poll of it starts (one in progress finishes)."""
        with self._cond:
            entry = self._entries.pop(source_id, None)
            if entry is None:
                return False
            entry.removed = True
            self._cond.notify()
            return True

    def update(self, source: SourceOptions) -> None:
        """New options for a scheduled source: used from its next poll, at its current due time (a new
        `every` applies from then on); a new host means a new entry, due now."""
        with self._cond:
            entry = self._entries.get(source.id)
            if entry is not None and entry.host == poll_host(source):
                entry.source = source
                return
        self.remove(source.id)
        self.add(source)

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

    def run_round(self, sources: Iterable[SourceOptions], *, stop: threading.Event | None = None,
                  drain_s: float = 20.0, patience: float | None = None) -> list[Any]:
        """Cron mode: poll each source once, as fast as the pool and the per-host limits allow; results in order
        (None: not polled). A host busy elsewhere is asked again for `every` at most (or `patience`, the cron
        interval, if shorter). `stop` set (SIGTERM): no new poll starts; those in progress get `drain_s`."""
        sources = list(sources)
        now = self.monotonic()
        for s in sources:
            self.add(s, now, once=True)
            if patience:
                self._entries[s.id].until = now + min(float(s.every), patience)
        self.start()
        try:
            with self._cond:
                while self._once_left and not (stop is not None and stop.is_set()):
                    self._cond.wait(0.5)
        finally:
            self.stop()
        deadline = self.monotonic() + drain_s
        with self._cond:
            while self._busy and self.monotonic() < deadline:       # stopped: the polls in progress end
                self._cond.wait(0.2)
        done = {s.id: e.result for s in sources if (e := self._finished.get(s.id)) is not None}
        return [done.get(s.id) for s in sources]

    @property
    def in_progress(self) -> int:
        return self._busy

    def drift_summary(self) -> dict[str, float]:
        """Percentiles of (actual start - due time) over the last polls, in seconds."""
        values = sorted(self.drifts)
        if not values:
            return {"polls": 0}

        def pct(p: float) -> float:
            return values[min(len(values) - 1, int(p * len(values)))]
        return {"polls": len(values), "p50_s": pct(0.50), "p99_s": pct(0.99), "max_s": values[-1]}

    # -- the dispatcher loop ----------------------------------------------------------------------------------
    def _loop(self) -> None:
        with self._cond:
            while not self._stop.is_set():
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
