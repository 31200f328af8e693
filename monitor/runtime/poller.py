"""Polling one source: collect, store, route; and the bookkeeping that keeps ops informed of its health.

A failing source backs off exponentially (with jitter, so many broken feeds do not retry in lockstep), is
reported after `failure_alert_after` consecutive failures, and again when it recovers. A 429 reschedules the
source at the reset time the server gave (backoff when it gave none); so does a 429 that cut a poll after part of
its answer was read (`CollectResult.rate_limited`), once that part is stored. 401/403 disable the source until its
credentials or options change (a fingerprint of both is kept): retrying a refused token only burns quota, and
a cron run every five minutes must not hammer the API with it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from monitor.core.clock import Clock, iso
from monitor.core.errors import RateLimited, SourceAuthError, SourceError
from monitor.core.model import Target
from monitor.runtime.dispatch import poll_host
from monitor.runtime.pipeline import Pipeline
from monitor.sources import REGISTRY, CollectResult, SourceOptions, SourceState
from monitor.sources.fetch import HttpConfig
from monitor.sources.health import clear_disabled, load_state, poll_gate, record_failure, record_success
from monitor.sources.politeness import on_first_request
from monitor.store.database import Store
from monitor.store.leases import LeaseLost
from monitor.store.poll_turns import PollTurns, Taken, Turn

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 6 * 3600.0


@dataclass
class PollOutcome:
    source_id: str
    ok: bool
    new: int = 0
    seen: int = 0
    not_modified: bool = False
    skipped: str | None = None
    error: str | None = None
    partial: bool = False           # polled, but part of the answer could not be read (see warnings)
    retry_in: float | None = None   # replicas: not this replica's turn; the shared schedule says when
    taken: Taken | None = None      # cron on replicas: another box polled it within half its interval


class Poller:
    def __init__(self, store: Store, pipeline: Pipeline, client: httpx.Client, clock: Clock, http: HttpConfig,
                 health_targets: Callable[[], list[Target]], rng: random.Random | None = None):
        self.store = store
        self.pipeline = pipeline
        self.client = client
        self.clock = clock
        self.http = http
        self.health_targets = health_targets
        self.rng = rng or random.Random()
        self.scheduled = True      # daemon: follow the replicas' shared next-due times; cron (--once): poll now
        self.cron_interval: float | None = None    # cron: `daemon.cron_interval` (None: each source's `every`)

    def state(self, source_id: str) -> SourceState:
        return load_state(self.store, source_id)

    def poll(self, source: SourceOptions, force: bool = False) -> PollOutcome:
        """Poll if it is this replica's turn (shared due time, host lease); commits are fenced by the lease.
        Cron mode (`scheduled` False): the host lease, and no other replica's poll within half `every`."""
        turns = PollTurns.of(self.store)
        if self.scheduled or force:
            turn, wait = turns.begin(source.id, poll_host(source), source.every, scheduled=self.scheduled and not force)
            if turn is None:
                return PollOutcome(source.id, False, skipped="not due (the replicas' shared schedule)", retry_in=wait)
        else:
            got = turns.begin_once(source.id, poll_host(source), source.every, self.cron_interval)
            if isinstance(got, Taken):
                log.info("not polled: taken by another replica", extra={
                    "source_id": source.id, "polled_by": got.by, "ago_s": round(got.ago, 1),
                    "within_s": round(got.within, 1), "interval": "every (assumed)" if got.assumed else "cron_interval"})
                return PollOutcome(source.id, False, taken=got)
            if not isinstance(got, Turn):
                return PollOutcome(source.id, False, skipped="its host is busy on another replica", retry_in=got)
            turn = got
        try:
            with self.store.fence(turn.lease), on_first_request(lambda: turns.sent(turn)):
                outcome = self._poll(source, force)
                if outcome.ok or outcome.error:           # a request was made: other boxes' cron passes skip it
                    turns.done(turn)
                return outcome
        except LeaseLost as exc:
            log.warning("poll not committed: %s", exc, extra={"source_id": source.id})
            return PollOutcome(source.id, False, error=str(exc))
        finally:
            turns.end(turn, self.http.per_host_interval)

    def _poll(self, source: SourceOptions, force: bool = False) -> PollOutcome:
        now = self.clock.now()
        row = poll_gate(self.store, source.id)
        collector = REGISTRY[source.kind](source, self.client, self.clock, self.http)
        if row and row["disabled_reason"]:
            if row["disabled_fingerprint"] == collector.fingerprint():
                return PollOutcome(source.id, False, skipped=f"disabled: {row['disabled_reason']}")
            log.info("credentials or options changed: polling the disabled source again",
                     extra={"source_id": source.id})
            clear_disabled(self.store, source.id)
        elif row and row["next_run"] and now < row["next_run"] and not force:
            return PollOutcome(source.id, False, skipped=f"backing off until {iso(row['next_run'])}")
        started = time.monotonic()
        try:
            result: CollectResult = collector.collect(self.state(source.id))
            new_ids = self.pipeline.ingest(source, result)
        except SourceAuthError as exc:
            return self._failed(source, exc.reason, disable=collector.fingerprint())
        except RateLimited as exc:
            return self._failed(source, exc.reason, retry_at=exc.retry_at)
        except SourceError as exc:
            return self._failed(source, exc.reason)
        except LeaseLost:
            raise                      # taken over before the request left (PollTurns.sent): nothing to record
        except Exception as exc:  # noqa: BLE001 - a bug or surprise in one collector never stops the others
            log.debug("collector crashed", exc_info=True, extra={"source_id": source.id})
            return self._failed(source, f"unexpected {type(exc).__name__}: {exc}"[:300])
        self._succeeded(source, result)
        for w in result.warnings:
            log.warning("partial result: %s", w, extra={"source_id": source.id})
        log.info("polled", extra={"source_id": source.id, "new": len(new_ids), "items": len(result.mentions),
                                  "not_modified": result.not_modified,
                                  "ms": round((time.monotonic() - started) * 1000)})
        self.pipeline.process_pending(wait=False)      # another worker routing now routes these too
        return PollOutcome(source.id, True, len(new_ids), len(result.mentions), result.not_modified,
                           partial=bool(result.warnings))

    def _succeeded(self, source: SourceOptions, result: CollectResult) -> None:
        """A poll whose result was stored. One cut by a 429 after part of its answer (`result.rate_limited`)
        is a success (what was read is stored, the cursor keeps the rest; the failure count is reset) that
        still waits for the server's reset time, as a 429 that read nothing does, before the next poll."""
        now = self.clock.now()
        limited = result.rate_limited
        next_run = self.next_run(source, 1, now, limited.retry_at) if limited is not None else None
        if next_run is not None:
            log.warning("rate limited after part of the answer: backing off until %s", iso(next_run),
                        extra={"source_id": source.id})
        record_success(self.store, source, self.health_targets(), now=now, warning="; ".join(result.warnings),
                       next_run=next_run)

    def _failed(self, source: SourceOptions, reason: str, *, disable: str | None = None,
                retry_at: float | None = None) -> PollOutcome:
        now = self.clock.now()
        failures = record_failure(self.store, source, reason, self.health_targets(), disable=disable or False,
                                  now=now, next_run=lambda n: self.next_run(source, n, now, retry_at))
        log.warning("poll failed: %s", reason, extra={"source_id": source.id, "failures": failures,
                                                      "disabled": bool(disable)})
        return PollOutcome(source.id, False, error=reason)

    def next_run(self, source: SourceOptions, failures: int, now: float, retry_at: float | None) -> float | None:
        """When a failing source may be polled again.

        The server's own reset time wins (capped, and never in the past); otherwise the first failure waits
        for the regular schedule and later ones back off exponentially, ±20% jitter so that many sources
        broken by one outage do not retry in lockstep.
        """
        if retry_at is not None:
            return min(max(retry_at, now + 1.0), now + MAX_BACKOFF_S)
        if failures <= 1:
            return None
        backoff = min(MAX_BACKOFF_S, source.every * 2 ** min(failures - 1, 12))
        return now + backoff * self.rng.uniform(0.8, 1.2)
