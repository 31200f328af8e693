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
import threading
from collections.abc import Iterable
from typing import Any

from monitor.runtime.pool import HostAwarePool, Poll, _Entry, poll_host
from monitor.sources import SourceOptions

__all__ = ["HostAwarePool", "Poll", "PollDispatcher", "poll_host"]


class PollDispatcher(HostAwarePool):
    """The schedule (`add`, `remove`, `update`), cron's `run_round` and the drift figures, on the pool."""

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

    def run_round(self, sources: Iterable[SourceOptions], *, stop: threading.Event | None = None,
                  drain_s: float = 20.0, patience: float | None = None) -> list[Any]:
        """Cron mode: poll each source once, as fast as the pool and the per-host limits allow; results in order
        (None: not polled). A host busy elsewhere is asked again for `every` at most (or `patience`, the cron
        interval, if shorter). `stop` set (SIGTERM): no new poll starts, not even the round's first ones (the
        pool looks at it before each start: before round 23 it did only after it had started the first polls, so
        `--once` had to check it itself); those in progress get `drain_s`."""
        sources = list(sources)
        if stop is not None and stop.is_set():
            return [None] * len(sources)
        self._halt = stop
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

    def drift_summary(self) -> dict[str, float]:
        """Percentiles of (actual start - due time) over the last polls, in seconds."""
        values = sorted(self.drifts)
        if not values:
            return {"polls": 0}

        def pct(p: float) -> float:
            return values[min(len(values) - 1, int(p * len(values)))]
        return {"polls": len(values), "p50_s": pct(0.50), "p99_s": pct(0.99), "max_s": values[-1]}
