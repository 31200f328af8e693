"""The stages after collection: store/dedup → match brands → score → route → open alerts.

`analyze` is pure (no I/O) so `monitor explain` and `monitor replay` show exactly what the daemon would
decide. `ingest` commits new mentions (and the source cursor) before anything is routed; `process_pending`
then routes each unprocessed mention in one transaction that also opens its alerts and queues their
deliveries, so a crash at any point is repaired by running `process_pending` again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from monitor.alerting.grouping import assign
from monitor.analyse.analyzer import Analysis, Analyzer, mention_from_row
from monitor.config.settings import Config
from monitor.core.model import Mention
from monitor.sources import CollectResult, SourceOptions
from monitor.sources.health import save_position
from monitor.store.database import Store, dumps
from monitor.store.leases import for_update

log = logging.getLogger(__name__)
CLAIM_TTL_S = 60.0        # a replica's claim on mentions it is routing; lapses if it dies meanwhile


class Pipeline:
    def __init__(self, store: Store, analyzer_ref: Callable[[], Analyzer],
                 on_alert: Callable[[int], None] | None = None):
        self.store = store
        self._analyzer = analyzer_ref        # a callable, so a rules reload swaps the analyzer atomically
        self.on_alert = on_alert or (lambda alert_id: None)
        self._pending_lock = threading.Lock()
        self._pending_asked = threading.Event()

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
        logged, and left unprocessed for `process_pending` to retry; the others commit.
        """
        if not ids:
            return 0
        done = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = self.store.query(
                f"SELECT * FROM mentions WHERE id IN ({','.join('?' * len(chunk))}) AND processed_at IS NULL"
                " ORDER BY id", tuple(chunk))
            with self.store.tx():
                for row in rows:
                    try:
                        self.process(row)
                        done += 1
                    except Exception:  # noqa: BLE001 - one bad mention never blocks its batch
                        log.exception("routing failed; left for the next pass", extra={"mention_id": row["id"]})
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
        done = 0
        while True:
            rows = self._claim(limit)
            if not rows:
                return done
            for row in rows:
                self.process(row)
                done += 1

    def _claim(self, limit: int) -> list[dict[str, Any]]:
        """Unrouted mentions no other replica is routing: `FOR UPDATE SKIP LOCKED`, then a short claim (so the
        analysis runs outside any transaction). A claim left by a dead replica lapses after CLAIM_TTL_S; with
        SQLite (one process) claims are ignored. Routing stays exactly-once either way (`process` re-checks)."""
        with self.store.tx() as db:
            rows = _rows(db.execute(
                "SELECT * FROM mentions WHERE processed_at IS NULL AND (claimed_until IS NULL"
                " OR claimed_until < db_now() OR ?) ORDER BY id LIMIT ?" + for_update(db, skip_locked=True),
                (int(not self.store.shared), limit)))
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


def _rows(cur: Any) -> list[dict[str, Any]]:
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _source_or_none(config: Config, source_id: str) -> SourceOptions | None:
    try:
        return config.source(source_id)
    except KeyError:
        return None
