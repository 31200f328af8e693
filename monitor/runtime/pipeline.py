"""The stages after collection: store/dedup → match brands → score → route → open alerts.

`analyze` is pure (no I/O) so `monitor explain` and `monitor replay` show exactly what the daemon would
decide. `ingest` commits new mentions (and the source cursor) before anything is routed; `process_pending`
then routes each unprocessed mention in one transaction that also opens its alerts and queues their
deliveries, so a crash at any point is repaired by running `process_pending` again.

A mention whose analysis or routing raises (a "poison" mention: a scorer bug on one untrusted text, a bad
rule, a database constraint) is rolled back alone and never blocks the others: its failure is counted in the
mention's row in a transaction of its own (`route_attempts`, `route_error`: exception type and message,
capped, never the text), it is retried after a growing backoff (ROUTE_BACKOFF_S), and after
`daemon.max_route_attempts` failures it is parked: kept, no longer claimed, logged once at ERROR and shown
by `monitor status` until `monitor retry-mentions` (`retry_mentions`) sends it through again.

Only the mention's own failures count: its analysis, its routing, a statement the database refused on its row
(`StorageRejected`). When the store itself is unavailable (`StorageUnavailable`: SQLite locked past its busy
timeout, a lost PostgreSQL connection, a server shutting down) no mention is to blame and every other one
would fail too: the pass stops, nothing is counted, their claims are let go, a WARNING says so once (until a
pass succeeds again), and the next pass routes them. A lost lease (`LeaseLost`) counts nothing either.

Which unavailable errors are the mention's (poison mentions on PostgreSQL): a serialization failure (SQLSTATE
40001), a deadlock (40P01) or a statement timeout (57014) is a StorageUnavailable (retry later), but it was
raised by a statement of this mention's routing, so it counts against the mention like its own failure
(backoff, then parked after `daemon.max_route_attempts`): a mention whose routing always deadlocks or times out
was retried forever, holding its claim pass after pass. A one-off deadlock costs a good mention one attempt and
a 30 s backoff; the connection and server failures (08xxx, an admin shutdown, a pool timeout, a read-only
standby, SQLite's busy timeout) stay no mention's fault. (`STATEMENT_FAILURES`, `counts_against_mention`.)

A server-wide slowdown is not every mention's fault (`SLOW_SERVER_FAILURES`, `PassBreaker`): when the whole server
is slow or overloaded, every mention a pass touches times out, and counting those would park every healthy
mention after `daemon.max_route_attempts` passes. So a statement failure is counted only once the pass has seen
the server work: the ones before the pass's first routed mention are held, then tried again right after it
(counted if they fail again). When the first SLOW_SERVER_FAILURES mentions a pass tries all fail with statement
failures of the same SQLSTATE class (40: serialization/deadlock, 57: timeout), the store is taken as
unavailable for this pass: nothing is counted, a WARNING says so once (as for an outage, naming the class), the
pass stops. Those mentions keep their claims until they lapse (CLAIM_TTL_S), so the next passes try the
mentions behind them first (three poison mentions at the head of the queue cannot hold it up); they stay
suspects (in memory) and are tried again after the first mention a later pass routes. Until then a statement
failure of the same class stops a pass at once, uncounted (a slow server costs a pass one timeout, not three). A poison mention among
healthy ones is counted and parked as before, and so is one tried alone (fewer than SLOW_SERVER_FAILURES tried,
none routed: nothing says the server is at fault). `process_batch` (the firehose) stops the same way: its
batch is rolled back uncounted and `process_pending` routes those mentions later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from monitor.alerting.grouping import assign
from monitor.analyse.analyzer import Analysis, Analyzer, mention_from_row
from monitor.config.settings import Config
from monitor.core.errors import StorageError, StorageUnavailable
from monitor.core.model import Mention
from monitor.core.scrub import inert, scrub_urls
from monitor.sources import CollectResult, SourceOptions
from monitor.sources.health import save_position
from monitor.store.database import Store, dumps
from monitor.store.leases import LeaseLost, for_update

log = logging.getLogger(__name__)
CLAIM_TTL_S = 60.0        # a replica's claim on mentions it is routing; lapses if it dies meanwhile
ROUTE_BACKOFF_S = 30.0    # a failed mention is retried after 30 s, then 1 m, 2 m... (doubling, at most 30 m)
ROUTE_BACKOFF_MAX_S = 1800.0
ROUTE_ERROR_CHARS = 300
_QUOTE = 16               # an error message quoting this many characters of the mention is withheld
# PostgreSQL SQLSTATEs that are "unavailable" but tied to the statement that raised them: counted (module doc)
STATEMENT_FAILURES = {"40001", "40P01", "57014"}     # serialization failure, deadlock, statement timeout


SLOW_SERVER_FAILURES = 3
"""How many mentions, the first of a pass, must all fail with statement failures of one SQLSTATE class (and none be
routed) before the pass blames the server rather than them. One is a poison mention; two poison mentions
side by side happen; three in a row of the same kind, with not one mention routed, is far likelier a server
that is slow, overloaded or locked up as a whole (a long lock on the alerts, a vacuum, I/O saturation). Small,
so a slow server costs each pass at most three statement timeouts."""


def counts_against_mention(exc: StorageUnavailable) -> bool:
    """True when this unavailable error came from the mention's own statement (see the module doc)."""
    return exc.sqlstate in STATEMENT_FAILURES


def _sqlstate_class(exc: Exception) -> str | None:
    """The SQLSTATE class (first two characters) of a statement failure; None for any other failure."""
    if isinstance(exc, StorageUnavailable) and counts_against_mention(exc):
        return (exc.sqlstate or "")[:2]
    return None


Failure = tuple[dict[str, Any], Exception]


class PassBreaker:
    """One pass's circuit breaker (module doc): holds the statement failures of the mentions tried before any is
    routed and hands them back to be tried again once one is; trips when SLOW_SERVER_FAILURES of them fail
    alike. `suspects`: the failures a tripped earlier pass held, tried again after this pass's first routed one."""

    def __init__(self, suspects: list[Failure] | None = None):
        self.suspects: list[Failure] = list(suspects or [])
        self.held: list[Failure] = []     # this pass's statement failures, none routed yet
        self.settled = False              # a mention was routed, or the failures differ: count as they come

    def routed(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """`row` was routed, so the server works: the rows held (and the suspects) to be tried again now."""
        self.settled = True
        again = {int(r["id"]): r for r, _e in self.suspects + self.held}
        again.pop(int(row["id"]), None)
        self.suspects, self.held = [], []
        return list(again.values())

    def failed(self, row: dict[str, Any], exc: Exception) -> list[Failure] | None:
        """The failures to count now ([]: held for now); None: the breaker trips, the pass stops uncounted."""
        kind = _sqlstate_class(exc)
        if self.settled or kind is None:     # the server works, or the mention's own failure (analysis, constraint)
            return [(row, exc)]
        if any(_sqlstate_class(e) != kind for _r, e in self.suspects + self.held):
            self.settled = True              # failures of different kinds: not one trouble of the server
            found, self.held = [*self.held, (row, exc)], []
            return found
        self.held.append((row, exc))
        if self.suspects:                    # no mention routed since a pass tripped on this: still the server
            return None
        return None if len(self.held) >= SLOW_SERVER_FAILURES else []

    def trip(self) -> None:
        """The pass stops: what it held joins the suspects, not counted (one entry per mention)."""
        self.suspects = list({int(r["id"]): (r, e) for r, e in self.suspects + self.held}.values())
        self.held = []

    def finished(self) -> list[Failure]:
        """No more mentions in this pass: what it held (fewer than trip the breaker) is counted as before, unless
        a tripped pass left suspects (then it joins them: the server has not been seen working since)."""
        if self.suspects:
            self.trip()
            return []
        found, self.held = self.held, []
        return found


class _ServerSlow(Exception):
    """`process_batch`'s breaker tripped: its transaction is rolled back (module doc)."""

    def __init__(self, failure: Exception):
        super().__init__(str(failure))
        self.failure = failure


class Pipeline:
    def __init__(self, store: Store, analyzer_ref: Callable[[], Analyzer],
                 on_alert: Callable[[int], None] | None = None):
        self.store = store
        self._analyzer = analyzer_ref        # a callable, so a rules reload swaps the analyzer atomically
        self.on_alert = on_alert or (lambda alert_id: None)
        self._pending_lock = threading.Lock()
        self._pending_asked = threading.Event()
        self._store_down = False             # a WARNING was logged for the current outage of the store
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
        """Route many stored mentions under one commit instead of one per mention (the firehose's rate).

        Each mention still goes through `process` (its own savepoint): one that fails is rolled back alone,
        logged, its failure counted once the batch is committed (a transaction of its own), and left
        unprocessed for `process_pending` to retry after its backoff; the others commit.
        """
        if not ids:
            return 0
        done = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            failed: list[tuple[dict[str, Any], Exception]] = []
            routed = 0
            breaker = PassBreaker()
            try:
                rows = self.store.query(
                    f"SELECT * FROM mentions WHERE id IN ({','.join('?' * len(chunk))}) AND processed_at IS NULL"
                    " AND route_parked_at IS NULL ORDER BY id", tuple(chunk))
                with self.store.tx():
                    queue = list(rows)
                    while queue:
                        row = queue.pop(0)
                        try:
                            self.process(row)
                            routed += 1
                            queue[:0] = breaker.routed(row)  # those held are tried again, the server works
                            continue
                        except StorageUnavailable as exc:
                            if not counts_against_mention(exc):
                                raise             # not this mention's fault: the batch is rolled back, uncounted
                            failure: Exception = exc    # its savepoint was rolled back; the batch goes on
                        except LeaseLost:
                            raise
                        except Exception as exc:  # noqa: BLE001 - one bad mention never blocks its batch
                            failure = exc
                        found = breaker.failed(row, failure)
                        if found is None:         # nothing routed yet in this batch: rolled back, uncounted
                            raise _ServerSlow(failure)
                        failed += found
                    failed += breaker.finished()
            except _ServerSlow as slow:
                self._slow_server(slow.failure, len(ids) - start)
                return done
            except StorageUnavailable as exc:
                self._unavailable(exc, len(ids) - start)
                return done
            done += routed
            for row, error in failed:
                try:
                    self.route_failed(row, error)
                except StorageUnavailable as exc:
                    self._unavailable(exc, len(failed))
                    return done
                except Exception:  # noqa: BLE001 - the store is failing: the stream goes on, the next pass retries
                    log.exception("routing failed and could not be counted; left for the next pass",
                                  extra={"mention_id": row["id"]})
        self._available()
        return done

    def process_pending(self, limit: int = 500, *, wait: bool = True) -> int:
        """Route every stored-but-unrouted mention (oldest first). Safe to call any time, from any thread.

        One thread routes at a time: with dozens of poll workers each calling this after its poll, every one
        of them used to analyse the same pending rows and all but one threw the work away (the cost of a
        cold round grew with the pool). `wait=False` (the poller) returns at once when another thread is
        routing; that thread looks again after it lets go, so the caller's rows are never left behind.
        """
        done = 0
        self._pending_asked.set()
        while self._pending_asked.is_set():
            if not self._pending_lock.acquire(blocking=wait):
                return done                 # the holder re-checks `_pending_asked` after releasing
            try:
                self._pending_asked.clear()
                done += self._route_pending(limit)
            finally:
                self._pending_lock.release()
        return done

    def _route_pending(self, limit: int) -> int:
        """One pass over the pending mentions, oldest first; each is routed (or fails) at most once per pass.

        A mention that raises is rolled back alone (`process` is one transaction), counted by `route_failed`
        and passed over: the claim moves on past the ids already seen, so it blocks nothing behind it.
        The store being unavailable is nobody's fault: the pass stops there, uncounted (`_unavailable`).
        """
        done = 0
        after = 0
        breaker = PassBreaker(self._suspects)
        try:
            while True:
                try:
                    rows = self._claim(limit, after)
                except StorageUnavailable as exc:
                    self._release([r for r, _e in breaker.held])
                    self._unavailable(exc, None)
                    return done
                if not rows:
                    down = self._count(breaker.finished())
                    if down is not None:
                        self._unavailable(down, None)
                        return done
                    self._available()
                    return done
                after = max(int(r["id"]) for r in rows)
                queue, i = list(rows), 0
                while i < len(queue):
                    row = queue[i]
                    failure: Exception
                    try:
                        self.process(row)
                    except StorageUnavailable as exc:
                        if not counts_against_mention(exc):
                            self._release([r for r, _e in breaker.held] + queue[i:])
                            self._unavailable(exc, len(queue) - i)
                            return done
                        failure = exc                  # its own statement deadlocked or timed out: counted
                    except LeaseLost:
                        self._release([r for r, _e in breaker.held] + queue[i:])
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
                    if found is None:                  # the first mentions all failed alike: the server's fault
                        breaker.trip()
                        self._release(queue[i:])       # the suspects keep their claims: the next pass goes on
                        self._slow_server(failure, len(queue) - i)
                        return done
                    down = self._count(found)
                    if down is not None:               # not even counted: those failures' claims are let go too
                        self._release([r for r, _e in breaker.held + found] + queue[i:])
                        self._unavailable(down, len(queue) - i)
                        return done
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

    def _slow_server(self, exc: Exception, waiting: int) -> None:
        """The breaker tripped (module doc): said like an outage of the store, once, with what was seen."""
        self._unavailable(exc, waiting, why=(
            f"{SLOW_SERVER_FAILURES} mentions in a row failed with SQLSTATE class {_sqlstate_class(exc)} and none was "
            "routed: the database server looks slow or overloaded as a whole, not these mentions"))

    def _unavailable(self, exc: Exception, waiting: int | None, *, why: str | None = None) -> None:
        """The store cannot be used: said once at WARNING per outage (DEBUG after), nothing counted."""
        extra = {"error": str(exc)[:300], "waiting": waiting}
        reason = f"{why}; last error: {str(exc)[:300]}" if why else str(exc)[:300]
        if self._store_down:
            log.debug("store still unavailable; pending mentions wait: %s", reason, extra=extra)
            return
        self._store_down = True
        log.warning("the store is unavailable (%s): routing stops for this pass; the pending mentions wait for the "
                    "next pass and no attempt is counted against them", reason, extra=extra)

    def _available(self) -> None:
        if self._store_down:
            self._store_down = False
            log.info("the store is available again: pending mentions are being routed")

    def _release(self, rows: list[dict[str, Any]]) -> None:
        """Let go of the claims on rows this pass will not route (PostgreSQL), so the next pass, this replica's
        or another's, takes them at once; if the store cannot even do that, the claims lapse after CLAIM_TTL_S."""
        if not rows or not self.store.shared:
            return
        try:
            with self.store.tx() as db:
                db.execute(f"UPDATE mentions SET claimed_until = NULL WHERE processed_at IS NULL"
                           f" AND id IN ({','.join('?' * len(rows))})", tuple(int(r["id"]) for r in rows))
        except StorageError as exc:
            log.debug("claims not released (they lapse): %s", exc)

    def _claim(self, limit: int, after: int = 0) -> list[dict[str, Any]]:
        """Unrouted mentions no other replica is routing: `FOR UPDATE SKIP LOCKED`, then a short claim (so the
        analysis runs outside any transaction). A claim left by a dead replica lapses after CLAIM_TTL_S; with
        SQLite (one process) claims are ignored. Routing stays exactly-once either way (`process` re-checks).
        Parked mentions and failed ones still in their backoff are not claimed; `after`: ids above it only."""
        with self.store.tx() as db:
            rows = _rows(db.execute(
                "SELECT * FROM mentions WHERE processed_at IS NULL AND id > ? AND route_parked_at IS NULL"
                " AND (route_retry_at IS NULL OR route_retry_at <= db_now()) AND (claimed_until IS NULL"
                " OR claimed_until < db_now() OR ?) ORDER BY id LIMIT ?" + for_update(db, skip_locked=True),
                (after, int(not self.store.shared), limit)))
            if rows and self.store.shared:
                db.execute(f"UPDATE mentions SET claimed_until = db_now() + ? WHERE id IN ({','.join('?' * len(rows))})",
                           (CLAIM_TTL_S, *(r["id"] for r in rows)))
        return rows

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
        """Count a failed routing of `row` in its own transaction (the routing itself was rolled back), release
        its claim, set its backoff, and park it after `daemon.max_route_attempts` failures (logged once at ERROR).

        If even this write fails the store itself is failing, not the mention: that error is raised, so the
        pass stops as before and nothing is counted against the mention.
        """
        mention_id = int(row["id"])
        error = route_error(exc, row)
        limit = self._analyzer().config.daemon.max_route_attempts
        now = self.store.now()
        with self.store.tx() as db:
            cur = db.execute("SELECT route_attempts FROM mentions WHERE id = ? AND processed_at IS NULL",
                             (mention_id,)).fetchone()
            if cur is None:         # routed after all (the failure came after its commit, e.g. on_alert)
                log.warning("after routing mention %s: %s", mention_id, error, exc_info=exc,
                            extra={"mention_id": mention_id})
                return
            attempts = int(cur[0] or 0) + 1
            parked = attempts >= limit
            backoff = min(ROUTE_BACKOFF_S * 2 ** (attempts - 1), ROUTE_BACKOFF_MAX_S)
            db.execute("UPDATE mentions SET route_attempts = ?, route_error = ?, route_failed_at = ?,"
                       " route_retry_at = db_now() + ?, route_parked_at = ?, claimed_until = NULL WHERE id = ?",
                       (attempts, error, now, backoff, now if parked else None, mention_id))
        extra = {"mention_id": mention_id, "source_id": row.get("source_id"), "attempt": attempts,
                 "max_attempts": limit, "error": error}
        if parked:
            log.error("mention %s parked after %s failed routing attempts (%s); it is kept and no longer routed: "
                      "fix the cause, then `monitor retry-mentions --id %s` (or --all)", mention_id, attempts,
                      error, mention_id, exc_info=exc, extra=extra)
        else:
            log.warning("routing mention %s failed (attempt %s of %s): %s; the others go on, it is retried in %s s",
                        mention_id, attempts, limit, error, int(backoff), exc_info=exc, extra=extra)


def route_error(exc: BaseException, row: dict[str, Any]) -> str:
    """The exception's type and message for the `route_error` column and `monitor status`: capped, made inert,
    secrets out of URLs, and withheld when it quotes the mention (an untrusted text is never echoed back)."""
    message = scrub_urls(str(exc))[:ROUTE_ERROR_CHARS]
    quoted = [str(row.get(k) or "") for k in ("text", "title", "author")]
    kind = type(exc).__name__
    driver = getattr(exc, "driver", None) if isinstance(exc, StorageError) else None
    if driver and message.startswith(f"{driver}: "):        # the store's error already names the driver's
        kind, message = driver, message[len(driver) + 2:]
    if any(message[i:i + _QUOTE] in q for i in range(max(0, len(message) - _QUOTE + 1)) for q in quoted
           if len(q) >= _QUOTE):
        message = "(message withheld: it quotes the mention)"
    return inert(f"{kind}: {message}" if message else kind)[:ROUTE_ERROR_CHARS]


def retry_mentions(store: Store, ids: list[int] | None = None, *, all_or_none: bool = False) -> list[int]:
    """`monitor retry-mentions`: reset the failure count of these mentions (None: every failing or parked one)
    so the next pass routes them again. Routed mentions are left alone. Returns the ids reset; with
    `all_or_none`, nothing is reset unless every id given is failing or parked (then the ids that are)."""
    where = "processed_at IS NULL AND (route_attempts > 0 OR route_parked_at IS NOT NULL)"
    params: tuple[Any, ...] = ()
    if ids is not None:
        if not ids:
            return []
        where += f" AND id IN ({','.join('?' * len(ids))})"
        params = tuple(ids)
    with store.tx() as db:
        found = [int(r[0]) for r in db.execute(f"SELECT id FROM mentions WHERE {where} ORDER BY id", params).fetchall()]
        if ids is not None and all_or_none and len(found) < len(set(ids)):
            return found
        if found:
            db.execute(f"UPDATE mentions SET route_attempts = 0, route_retry_at = NULL, route_parked_at = NULL,"
                       f" claimed_until = NULL WHERE id IN ({','.join('?' * len(found))})", tuple(found))
    if found:
        log.warning("%s mention(s) reset for routing on the next pass", len(found), extra={"mention_ids": found[:50]})
    return found


def _rows(cur: Any) -> list[dict[str, Any]]:
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _source_or_none(config: Config, source_id: str) -> SourceOptions | None:
    try:
        return config.source(source_id)
    except KeyError:
        return None
