"""Driving a stream: connect from the saved cursor, keep only what a brand matches, store in batches, reconnect.

The hot path per event is: decode, match every brand in one pass (the Aho-Corasick matcher), and only for a
match build a Mention. Matched posts are stored with the cursor in one transaction per batch (`batch_size`
posts or `batch_wait`, whichever first) and routed in one more; the cursor alone is saved every
`cursor_every`, so a restart resumes close to where it stopped. A dropped or failed connection reconnects
with exponential backoff and jitter; refused credentials stop the stream and tell ops.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from monitor.analyse.matcher import BrandMatcher
from monitor.core.clock import Clock
from monitor.core.errors import RateLimited, SourceAuthError, SourceError
from monitor.core.model import Mention, Target
from monitor.runtime.pipeline import Pipeline
from monitor.sources.fetch import HttpConfig
from monitor.sources.health import load_cursor, load_stats, record_failure, record_success, save_stats
from monitor.sources.registry import REGISTRY
from monitor.sources.stream import Connected, Item, Malformed, StreamOptions, StreamSource, Want
from monitor.store.database import Store
from monitor.store.leases import Coordinator, LeaseLost

log = logging.getLogger(__name__)
STATUS_EVERY_S = 1.0


@dataclass
class StreamOutcome:
    source_id: str
    ok: bool
    new: int = 0
    events: int = 0
    error: str | None = None


class StreamRunner:
    def __init__(self, store: Store, pipeline: Pipeline, options: StreamOptions, matcher: Callable[[], BrandMatcher],
                 clock: Clock, http: HttpConfig, health_targets: Callable[[], list[Target]], *,
                 source: StreamSource | None = None, sleep: Callable[[float], bool] | None = None):
        self.store = store
        self.pipeline = pipeline
        self.options = options
        self.matcher = matcher
        self.clock = clock
        self.health_targets = health_targets
        self.source = source or REGISTRY[options.kind](options, clock, http)
        self._sleep = sleep
        self.stats = load_stats(store, options.id)
        self.failures = 0
        self.new = 0
        self._once = threading.Event()             # set: the `run_once` in progress ends (budget, or `end_once`)
        self._ended = False

    # -- the loops ---------------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """The daemon's loop: stay connected until `stop`, whatever the network does."""
        sleep = self._sleep or stop.wait
        while not stop.is_set():
            delay: float | None
            try:
                got_events = self.leased_session(stop)
                if stop.is_set():
                    break
                delay = self._backoff(0 if got_events else self._fail("the server closed the stream"))
                log.info("stream ended by the server; reconnecting", extra={"source_id": self.options.id})
            except SourceAuthError as exc:
                self._fail(exc.reason, disable=True)
                log.error("stream stopped: %s", exc.reason, extra={"source_id": self.options.id})
                return
            except RateLimited as exc:
                failures = self._fail(exc.reason)
                delay = max(self._backoff(failures + 3), (exc.retry_at or 0) - self.clock.now())
            except SourceError as exc:
                if stop.is_set():
                    break                          # the connection was cut by our own shutdown
                delay = self._backoff(self._fail(exc.reason))
            except Exception as exc:  # noqa: BLE001 - a bug in one stream never stops the daemon
                log.exception("stream crashed", extra={"source_id": self.options.id})
                delay = self._backoff(self._fail(f"unexpected {type(exc).__name__}: {exc}"[:300]))
            if delay is not None:
                log.info("reconnecting in %.1fs", delay, extra={"source_id": self.options.id})
                self.stats.reconnects += 1
                if sleep(delay):
                    break

    def run_once(self, budget: float | None = None) -> StreamOutcome:
        """Cron mode: catch up from the saved cursor to the time this run started, within the budget, or until
        `end_once` (a signal): what was read is stored with its cursor either way, the next pass goes on."""
        if self._ended:                            # ended before it began: nothing read, the next pass reads it
            return StreamOutcome(self.options.id, False)
        stop = self._once = threading.Event()
        if self._ended:                            # `end_once` came between the two lines above
            stop.set()
        timer = threading.Timer(budget if budget is not None else self.options.once_budget, stop.set)
        timer.daemon = True
        timer.start()
        coord = Coordinator.of(self.store)
        lease = coord.acquire(f"stream:{self.options.id}")
        if lease is None:
            timer.cancel()
            log.info("stream held by another replica: it catches up", extra={"source_id": self.options.id})
            return StreamOutcome(self.options.id, True, 0, 0, "held by another replica")
        try:
            with self.store.fence(lease):
                self.session(stop, catch_up_to=self.clock.now())
                self.stats.down_since = None       # caught up: in cron mode not being connected is normal
                self._save_stats()
        except SourceAuthError as exc:
            self._fail(exc.reason, disable=True)
            return StreamOutcome(self.options.id, False, self.new, self.stats.events, exc.reason)
        except SourceError as exc:
            if self._ended:                        # our own interrupt (a signal), not the source failing
                return StreamOutcome(self.options.id, True, self.new, self.stats.events)
            self._fail(exc.reason)
            return StreamOutcome(self.options.id, False, self.new, self.stats.events, exc.reason)
        finally:
            timer.cancel()
            self.interrupt()
            coord.release(lease)
        return StreamOutcome(self.options.id, True, self.new, self.stats.events)

    def end_once(self) -> None:
        """End a `run_once` early (a `--once` pass stopped by a signal): it flushes what it read and returns."""
        self._ended = True
        self._once.set()
        self.interrupt()

    def interrupt(self) -> None:
        self.source.interrupt()

    # -- one connection ----------------------------------------------------------------------------------
    def leased_session(self, stop: threading.Event) -> bool:
        """One holder per stream among the replicas: the others stand by here and take over within the TTL,
        resuming from the saved cursor. Every batch commits fenced by the lease, so a holder paused past it
        (its batch is read again by the new holder) commits nothing."""
        coord = Coordinator.of(self.store)
        lease = coord.wait_for(f"stream:{self.options.id}", stop)
        if lease is None:
            return False                           # stopping while standing by
        lease.on_lost.append(self.interrupt)
        coord.start()
        log.info("stream lease taken", extra={"source_id": self.options.id, "token": lease.token})
        try:
            with self.store.fence(lease):
                return self.session(stop)
        except LeaseLost as exc:
            log.warning("stream handed over: %s", exc, extra={"source_id": self.options.id})
            return True                            # not a failure of the source: stand by again at once
        finally:
            if not lease.lost:
                coord.release(lease)

    def session(self, stop: threading.Event, catch_up_to: float | None = None) -> bool:
        """Read one connection to its end; everything read is flushed before returning, however it ends."""
        cursor = self.cursor()
        batch: list[Mention] = []
        last_cursor, dirty, got = cursor, False, False
        monotonic = time.monotonic
        batch_size, batch_wait, cursor_every = self.options.batch_size, self.options.batch_wait, self.options.cursor_every
        saved_at = status_at = monotonic()
        batch_started = 0.0
        stats = self.stats

        def flush() -> None:
            nonlocal batch, dirty, saved_at
            if batch or dirty:
                new_ids = self.pipeline.ingest_batch(self.options, batch, last_cursor)
                stats.matched += len(batch)
                self.new += len(new_ids)
                batch, dirty, saved_at = [], False, monotonic()
                self.pipeline.process_batch(new_ids)

        try:
            for ev in self.source.read(cursor, self._want(), stop, catch_up_to=catch_up_to):
                kind = type(ev)
                if kind is Item:
                    item: Item = ev  # type: ignore[assignment]
                    stats.events += 1
                    got = True
                    last_cursor, dirty = item.cursor, True
                    stats.last_event_at = None      # stamped with the wall clock below, once per status write
                    if item.event_time is not None:
                        stats.event_time = item.event_time
                    if item.mention is not None:
                        if not batch:
                            batch_started = monotonic()
                        batch.append(item.mention)
                        if len(batch) >= batch_size:
                            flush()
                elif kind is Malformed:
                    stats.malformed += 1
                    log.debug("malformed frame skipped: %s", ev.reason,  # type: ignore[union-attr]
                              extra={"source_id": self.options.id})
                elif kind is Connected:
                    self._connected()
                now = monotonic()
                if (batch and now - batch_started >= batch_wait) or (dirty and now - saved_at >= cursor_every):
                    flush()
                if now - status_at >= STATUS_EVERY_S:
                    status_at = now
                    self._save_stats()
        finally:
            flush()
            stats.connected = False
            if stats.down_since is None:           # lost the connection, or never got it: down from now
                stats.down_since = self.clock.now()
            self._save_stats()
        return got

    def _save_stats(self) -> None:
        if self.stats.last_event_at is None and self.stats.events:
            self.stats.last_event_at = self.clock.now()
        save_stats(self.store, self.options.id, self.stats)

    def cursor(self) -> Any:
        return load_cursor(self.store, self.options.id)

    def _want(self) -> Want:
        matcher = self.matcher()
        only = set(self.options.brands) if self.options.brands else None
        if only is None:
            return lambda text: bool(matcher.match(text))
        return lambda text: any(m.brand in only for m in matcher.match(text))

    # -- health ------------------------------------------------------------------------------------------
    def _connected(self) -> None:
        self.failures = 0
        self.stats.connected, self.stats.connected_at = True, self.clock.now()
        self.stats.down_since = None
        record_success(self.store, self.options, self.health_targets())
        save_stats(self.store, self.options.id, self.stats)
        log.info("stream connected", extra={"source_id": self.options.id})

    def _fail(self, reason: str, *, disable: bool = False) -> int:
        self.failures = record_failure(self.store, self.options, reason, self.health_targets(), disable=disable)
        log.warning("stream failed: %s", reason, extra={"source_id": self.options.id, "failures": self.failures})
        return self.failures

    def _backoff(self, failures: int) -> float:
        """1s, 2s, 4s... up to max_backoff, with half of it random so many streams never retry in lockstep."""
        base = min(self.options.max_backoff, 2.0 ** max(0, failures - 1))
        return base / 2 + random.uniform(0, base / 2)


class StreamSupervisor:
    """`monitor run`: one thread per enabled stream source, restarted if it ever dies, stopped with the daemon."""

    def __init__(self, runners: list[StreamRunner], stop: threading.Event):
        self.stop = stop
        self.runners = runners
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for r in self.runners:
            t = threading.Thread(target=self._supervise, args=(r,), name=f"stream-{r.options.id}", daemon=True)
            t.start()
            self.threads.append(t)

    def _supervise(self, runner: StreamRunner) -> None:
        while not self.stop.is_set():
            try:
                runner.run(self.stop)
                return
            except Exception:  # noqa: BLE001 - run() handles errors; this is the last line of defence
                log.exception("stream thread died; restarting", extra={"source_id": runner.options.id})
                self.stop.wait(5.0)

    def interrupt(self) -> None:
        """Unblock every stream's socket read (the daemon's stop is already set): each flushes and ends."""
        for r in self.runners:
            r.interrupt()

    def join(self, timeout: float) -> list[str]:
        """Wait for the stream threads until `timeout` (what the daemon's stop bound leaves); the streams still
        running then, as `stream:<id>` (one stuck in a handshake no interrupt reaches, or in a slow flush)."""
        self.interrupt()
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return [f"stream:{r.options.id}" for r, t in zip(self.runners, self.threads, strict=True) if t.is_alive()]


def run_streams_once(runners: list[StreamRunner],
                     stop: threading.Event | None = None) -> tuple[list[StreamOutcome], bool]:
    """`monitor run --once`: every stream catches up from its cursor, in parallel, each within its budget;
    `stop` set (a signal) ends them all at once, each storing what it read (the next pass resumes there).
    Returns the outcomes and whether the stop ended a catch-up still running (all done before it: not cut)."""
    if not runners:
        return [], False
    cut = False
    with ThreadPoolExecutor(max_workers=min(8, len(runners))) as pool:
        running = [pool.submit(r.run_once) for r in runners]
        while stop is not None and wait(running, timeout=0.05).not_done:
            if stop.is_set():
                cut = True
                for r in runners:
                    r.end_once()           # one not started yet returns at once
                break
        return [f.result() for f in running], cut
