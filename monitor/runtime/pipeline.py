"""The stages after collection: store/dedup → match brands → score → route → open alerts.

`analyze` is pure (no I/O) so `monitor explain` and `monitor replay` show exactly what the daemon would
decide. `ingest` commits new mentions (and the source cursor) before anything is routed; `process_pending`
then routes each unprocessed mention in one transaction that also opens its alerts and queues their
deliveries, so a crash at any point is repaired by running `process_pending` again.

A mention whose analysis or routing raises (a "poison" mention: a scorer bug on one untrusted text, a bad
rule, a database constraint) is rolled back alone and never blocks the others: its failure is counted
(`route_failed`), it is retried after a growing backoff and parked after `daemon.max_route_attempts` failures
until `monitor retry-mentions` (`retry_mentions`) sends it through again. Which failures count against a mention
and which stop the pass uncounted (the store unavailable, a server slow as a whole: `PassBreaker` and its probe)
is drawn in `monitor.runtime.failures`; a pass stopped uncounted is said once in the log and recorded for
`monitor status` and the dashboard until a pass routes again (`monitor.runtime.pauses`). How replicas share the
pending mentions (claims) is `monitor.runtime.claims`; the firehose's batch routing, `monitor.runtime.batch`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from monitor.alerting.grouping import assign
from monitor.analyse.analyzer import Analysis, Analyzer, mention_from_row
from monitor.config.settings import Config
from monitor.core.errors import StorageUnavailable
from monitor.core.model import Mention
from monitor.runtime import failures
from monitor.runtime.batch import process_batch
from monitor.runtime.claims import CLAIM_TTL_S, claim, release
from monitor.runtime.failures import (
    ROUTE_BACKOFF_MAX_S,
    ROUTE_BACKOFF_S,
    ROUTE_ERROR_CHARS,
    SLOW_SERVER_FAILURES,
    STATEMENT_FAILURES,
    Failure,
    PassBreaker,
    counts_against_mention,
    retry_mentions,
    route_error,
    sqlstate_class,
)
from monitor.runtime.pauses import RoutingOutage
from monitor.sources import CollectResult, SourceOptions
from monitor.sources.health import save_position
from monitor.store.database import Store, dumps
from monitor.store.leases import LeaseLost

log = logging.getLogger(__name__)


class Routed(NamedTuple):
    """What a routing call did: how many mentions it routed, and whether the stop ended it with mentions still
    pending (`cut`): those stay unrouted and whole (each mention is its own transaction), and the next pass or
    start routes them, each once. A pass that ran out of mentions is never `cut`, whenever the signal came."""

    routed: int
    cut: bool = False


class Pipeline:
    def __init__(self, store: Store, analyzer_ref: Callable[[], Analyzer],
                 on_alert: Callable[[int], None] | None = None):
        self.store = store
        # the daemon's or the `--once` pass's stop (they set it, and the grace): routing goes on `stop_grace_s`
        # after it (a poll finishing in the drain has its few new mentions routed, as before), then ends between
        # two mentions, so a backlog of thousands (analyse + route each) never holds a stop past its drain bound
        self.stop = threading.Event()
        self.stop_grace_s = 0.0
        self._stop_noticed: float | None = None
        self.cut_by_stop = False           # said once (`_stopped`); the daemon's stop names it
        self._analyzer = analyzer_ref        # a callable, so a rules reload swaps the analyzer atomically
        self.on_alert = on_alert or (lambda alert_id: None)
        self._pending_lock = threading.Lock()
        self._pending_asked = threading.Event()
        self.outage = RoutingOutage(store)   # routing stopped uncounted: said once, recorded for `monitor status`
        self._suspects: list[Failure] = []   # failures held by a tripped breaker, counted once a mention routes

    def ingest(self, source: SourceOptions, result: CollectResult) -> list[int]:
        """Store the collected mentions and the source's new cursor in one transaction; return new ids."""
        now = self.store.now()
        new_ids: list[int] = []
        with self.store.tx() as db:
            for m in result.mentions:
                cur = db.execute(
                    "INSERT OR IGNORE INTO mentions (source_id, source_kind, external_id, url, author, title, text,"
                    " published, collected_at, language, reach, rating, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (source.id, source.kind, m.external_id, m.url, m.author, m.title, m.text, m.published, now,
                     m.language, m.reach, m.rating, dumps(m.raw)))
                if cur.rowcount:
                    m.id = cur.lastrowid
                    new_ids.append(int(cur.lastrowid or 0))
            save_position(db, source, result.cursor, result.etag, result.last_modified, len(new_ids))
        return new_ids

    def ingest_batch(self, source: SourceOptions, mentions: list[Mention], cursor: Any) -> list[int]:
        """Firehose path: a batch of matched posts and the stream's cursor, committed in ONE transaction.

        The cursor moves only with the posts it covers, so a crash before the commit replays them and a
        crash after it never asks for them again; replays are absorbed by UNIQUE(source_id, external_id).
        """
        return self.ingest(source, CollectResult(mentions=mentions, cursor=cursor))

    def process_batch(self, ids: list[int]) -> int:
        """Route many stored mentions under one commit per 500 (the firehose's path: `batch.process_batch`)."""
        return process_batch(self, ids)

    def process_pending(self, limit: int = 500, *, wait: bool = True) -> int:
        """`route_pending`, how many it routed (the callers that need not know whether the stop cut it)."""
        return self.route_pending(limit, wait=wait).routed

    def route_pending(self, limit: int = 500, *, wait: bool = True) -> Routed:
        """Route every stored-but-unrouted mention (oldest first), until `stop`. Safe any time, from any thread.

        One thread routes at a time: with dozens of poll workers each calling this after its poll, every one
        of them used to analyse the same pending rows and all but one threw the work away (the cost of a
        cold round grew with the pool). `wait=False` (the poller) returns at once when another thread is
        routing; that thread looks again after it lets go, so the caller's rows are never left behind.
        `stop` set: it returns between two mentions, `cut` if any was left (said once, in `_stopped`).
        """
        done = 0
        self._pending_asked.set()
        while self._pending_asked.is_set():
            if not self._pending_lock.acquire(blocking=wait):
                return Routed(done)         # the holder re-checks `_pending_asked` after releasing
            try:
                self._pending_asked.clear()
                routed, cut = self._route_pending(limit)
                done += routed
            finally:
                self._pending_lock.release()
            if cut:
                self._stopped(done)
                return Routed(done, cut=True)
        return Routed(done)

    def stopping(self) -> bool:
        """The stop is set and its grace has passed (counted from `stop_noticed`, or from the first look after it)."""
        if not self.stop.is_set():
            return False
        return time.monotonic() - self.stop_noticed() >= self.stop_grace_s

    def stop_noticed(self) -> float:
        """When the grace began (monotonic); the daemon's drain calls it as it starts, so the grace is the drain's."""
        if self._stop_noticed is None:
            self._stop_noticed = time.monotonic()
        return self._stop_noticed

    def _stopped(self, routed: int) -> None:
        """Routing ended by the stop with mentions pending: said once, with how many wait for the next pass
        (a poll ending after the stop asks to route too: it is cut at once, and not said again)."""
        if self.cut_by_stop:
            return
        self.cut_by_stop = True
        try:
            row = self.store.one("SELECT COUNT(*) AS n FROM mentions WHERE processed_at IS NULL"
                                 " AND route_parked_at IS NULL")
            left: int | str = int(row["n"]) if row else "some"
        except Exception:  # noqa: BLE001 - stopping: a count we cannot read must not turn the stop into a crash
            left = "some"
        log.warning("routing cut short by the stop after %s mention(s): %s mention(s) left pending, none half"
                    " routed; the next pass (or start) routes each once", routed, left,
                    extra={"routed": routed, "pending": left})

    def _route_pending(self, limit: int) -> tuple[int, bool]:
        """One pass over the pending mentions, oldest first; each is routed (or fails) at most once per pass.

        A mention that raises is rolled back alone (`process` is one transaction), counted by `route_failed`
        and passed over: the claim moves on past the ids already seen, so it blocks nothing behind it.
        The store being unavailable is nobody's fault: the pass stops there, uncounted (`_unavailable`); when its
        first mentions all fail alike the server is probed (`Store.probe`) before anyone is counted.
        Returns (routed, cut): `cut` when `stop` ended it before a mention it had claimed (claims let go, those
        held by the breaker uncounted: none of them is at fault, the next pass tries them again).
        """
        done = 0
        after = 0
        breaker = PassBreaker(self._suspects)
        try:
            while True:
                try:
                    rows = claim(self.store, limit, after)
                except StorageUnavailable as exc:
                    release(self.store, [r for r, _e in breaker.held])
                    self._unavailable(exc, None)
                    return done, False
                if not rows:
                    down = self._count(breaker.finished())
                    if down is not None:
                        self._unavailable(down, None)
                        return done, False
                    self._available()
                    return done, False
                after = max(int(r["id"]) for r in rows)
                queue, i = list(rows), 0
                while i < len(queue):
                    if self.stopping():                # between two mentions: the one before is committed whole
                        release(self.store, [r for r, _e in breaker.held] + queue[i:])
                        return done, True
                    row = queue[i]
                    failure: Exception
                    try:
                        self.process(row)
                    except StorageUnavailable as exc:
                        if not counts_against_mention(exc):
                            release(self.store, [r for r, _e in breaker.held] + queue[i:])
                            self._unavailable(exc, len(queue) - i)
                            return done, False
                        failure = exc                  # its own statement deadlocked or timed out: counted
                    except LeaseLost:
                        release(self.store, [r for r, _e in breaker.held] + queue[i:])
                        raise                          # the caller's fence: not the mention's fault either
                    except Exception as exc:  # noqa: BLE001 - one poison mention never blocks the others
                        failure = exc
                    else:
                        done += 1
                        i += 1
                        again = breaker.routed(row)    # the server works: those held are tried again now
                        if again:
                            ids = {int(r["id"]) for r in again}
                            queue[i:] = again + [r for r in queue[i:] if int(r["id"]) not in ids]
                        continue
                    i += 1
                    found = breaker.failed(row, failure)
                    if found is None:                  # the first mentions all failed alike: is it the server?
                        probe = self.store.probe()
                        if probe is None:              # it answers: the failures were the mentions' own
                            found, again = breaker.server_answers()
                            ids = {int(r["id"]) for r in again}
                            queue[i:] = again + [r for r in queue[i:] if int(r["id"]) not in ids]
                        elif not counts_against_mention(probe):     # not slow: gone (an outage)
                            release(self.store, [r for r, _e in breaker.held] + queue[i:])
                            self._unavailable(probe, len(queue) - i)
                            return done, False
                        else:
                            breaker.trip()
                            release(self.store, queue[i:])   # the suspects keep their claims: the next pass goes on
                            self.slow_server(failure, len(queue) - i, probe)
                            return done, False
                    down = self._count(found)
                    if down is not None:               # not even counted: those failures' claims are let go too
                        release(self.store, [r for r, _e in breaker.held + found] + queue[i:])
                        self._unavailable(down, len(queue) - i)
                        return done, False
        finally:
            self._suspects = breaker.suspects

    def _count(self, failures: list[Failure]) -> StorageUnavailable | None:
        """`route_failed` for each failure; the store's error if even that failed (the pass stops, as before)."""
        for row, failure in failures:
            try:
                self.route_failed(row, failure)
            except StorageUnavailable as down:
                return down
        return None

    def slow_server(self, exc: Exception, waiting: int | None, probe: Exception | None = None) -> None:
        """The breaker tripped and the server was not seen working (failures module doc): said like an outage."""
        self._unavailable(exc, waiting, cause="slow_server", why=(
            f"SQLSTATE class {sqlstate_class(exc)} on the first {SLOW_SERVER_FAILURES} mentions of the pass and none "
            "was routed" + (f"; a probe of the server failed too ({str(probe)[:120]})" if probe else "")
            + ": the database server looks slow or overloaded as a whole, not these mentions"))

    def _unavailable(self, exc: Exception, waiting: int | None, *, why: str | None = None,
                     cause: str = "outage") -> None:
        """The store cannot be used: said once at WARNING per outage (DEBUG after) and recorded, nothing counted."""
        self.outage.unavailable(exc, waiting, why=why, cause=cause)

    def _available(self) -> None:
        self.outage.available()

    def process(self, row: dict[str, Any]) -> None:
        analyzer = self._analyzer()
        m = mention_from_row(row)
        source = _source_or_none(analyzer.config, m.source_id)
        now = self.store.now()
        max_age = source.max_age if source else None
        if max_age and m.published and now - m.published > max_age:
            analysis, status = Analysis(m.language), "stale"
        else:
            analysis = analyzer.analyze(m, source.brands if source else None)
            status = "routed" if any(v.decision.hits for v in analysis.verdicts) else (
                "matched" if analysis.verdicts else "unmatched")
        opened: list[int] = []
        with self.store.tx() as db:
            claimed = db.execute("UPDATE mentions SET processed_at = ? WHERE id = ? AND processed_at IS NULL",
                                 (now, m.id)).rowcount
            if not claimed:
                return        # another thread routed it first
            first = analysis.verdicts[0].sentiment if analysis.verdicts else None
            db.execute(
                "UPDATE mentions SET language = ?, brands = ?, score = ?, negative = ?, unscored = ?, drivers = ?,"
                " routes = ?, status = ?, issue = ? WHERE id = ?",
                (analysis.language, dumps([v.brand for v in analysis.verdicts]),
                 first.score if first else None, int(analysis.negative), int(bool(first and first.unscored)),
                 dumps([d.to_dict() for d in first.drivers]) if first else None,
                 dumps([h.route for v in analysis.verdicts for h in v.decision.hits]), status,
                 next((v.sentiment.issue for v in analysis.verdicts if v.sentiment.issue), None), m.id))
            for v in analysis.verdicts:
                for hit in v.decision.hits:      # one alert per story and route: a retweet joins its original
                    alert_id, new = assign(db, now, m, v.brand, hit, analyzer.router.rules)
                    if new:
                        opened.append(alert_id)
        for alert_id in opened:
            log.info("alert opened", extra={"alert_id": alert_id, "mention_id": m.id, "source_id": m.source_id})
            self.on_alert(alert_id)


    def route_failed(self, row: dict[str, Any], exc: Exception) -> None:
        """`failures.route_failed` with this pipeline's store and `daemon.max_route_attempts` (its doc)."""
        failures.route_failed(self.store, row, exc, self._analyzer().config.daemon.max_route_attempts)


def _source_or_none(config: Config, source_id: str) -> SourceOptions | None:
    try:
        return config.source(source_id)
    except KeyError:
        return None


# the failure accounting lives in `failures` (and `pauses`); its public names stay importable from here
__all__ = ["CLAIM_TTL_S", "ROUTE_BACKOFF_MAX_S", "ROUTE_BACKOFF_S", "ROUTE_ERROR_CHARS", "SLOW_SERVER_FAILURES",
           "STATEMENT_FAILURES", "Failure", "PassBreaker", "Pipeline", "Routed", "counts_against_mention",
           "retry_mentions", "route_error"]
