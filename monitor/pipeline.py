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
from dataclasses import dataclass, field
from typing import Any

from .collectors import CollectResult, SourceOptions
from .config import Config
from .grouping import assign
from .language import detect_language
from .matcher import BrandMatch, BrandMatcher
from .model import Mention
from .routing import Decision, Router, Subject
from .sentiment import Scorer, Sentiment
from .storage import Store, dumps, loads

log = logging.getLogger(__name__)


@dataclass
class BrandVerdict:
    brand: str
    terms: tuple[str, ...]
    sentiment: Sentiment
    decision: Decision


@dataclass
class Analysis:
    language: str | None
    verdicts: list[BrandVerdict] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)    # brand -> why its match was dropped

    @property
    def negative(self) -> bool:
        return any(v.sentiment.negative for v in self.verdicts)


class Analyzer:
    """Match, score and route one mention; holds everything compiled from config and rules."""

    def __init__(self, config: Config, router: Router, scorer: Scorer | None = None,
                 matcher: BrandMatcher | None = None):
        self.config = config
        self.router = router
        self.matcher = matcher or BrandMatcher({n: b.query for n, b in config.brands.items()})
        self.scorer = scorer or Scorer(config.sentiment.threshold,
                                       {n: b.overrides for n, b in config.brands.items() if b.overrides})

    def analyze(self, m: Mention, only_brands: list[str] | None = None) -> Analysis:
        text = m.full_text
        lang = m.language or detect_language(text)
        out = Analysis(lang)
        matches: list[BrandMatch] = self.matcher.match(text)
        if only_brands is not None:
            matches = [b for b in matches if b.brand in only_brands]
        if not matches:
            return out
        terms = self.router.keywords_in(text)
        for bm in matches:
            wanted = self.config.brands[bm.brand].languages
            if wanted and lang and lang not in wanted:
                out.skipped[bm.brand] = f"language {lang!r} not in {wanted}"
                continue
            sentiment = self.scorer.score(text, lang=lang, rating=m.rating, brand=bm.brand)
            subject = Subject(bm.brand, m.source_kind, m.source_id, sentiment, terms, m.rating, m.reach,
                              sentiment.language or lang)
            out.verdicts.append(BrandVerdict(bm.brand, bm.terms, sentiment, self.router.route(subject)))
        return out


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
            db.execute("INSERT OR IGNORE INTO sources (id, kind) VALUES (?, ?)", (source.id, source.kind))
            db.execute(
                "UPDATE sources SET cursor = COALESCE(?, cursor), etag = ?, last_modified = ?,"
                " items_total = items_total + ? WHERE id = ?",
                (dumps(result.cursor) if result.cursor is not None else None, result.etag, result.last_modified,
                 len(new_ids), source.id))
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
            rows = self.store.query("SELECT * FROM mentions WHERE processed_at IS NULL ORDER BY id LIMIT ?",
                                    (limit,))
            if not rows:
                return done
            for row in rows:
                self.process(row)
                done += 1

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
                " routes = ?, status = ? WHERE id = ?",
                (analysis.language, dumps([v.brand for v in analysis.verdicts]),
                 first.score if first else None, int(analysis.negative), int(bool(first and first.unscored)),
                 dumps([d.to_dict() for d in first.drivers]) if first else None,
                 dumps([h.route for v in analysis.verdicts for h in v.decision.hits]), status, m.id))
            for v in analysis.verdicts:
                for hit in v.decision.hits:      # one alert per story and route: a retweet joins its original
                    alert_id, new = assign(db, now, m, v.brand, hit, analyzer.router.rules)
                    if new:
                        opened.append(alert_id)
        for alert_id in opened:
            log.info("alert opened", extra={"alert_id": alert_id, "mention_id": m.id, "source_id": m.source_id})
            self.on_alert(alert_id)


def mention_from_row(row: dict[str, Any]) -> Mention:
    return Mention(source_id=row["source_id"], source_kind=row["source_kind"], external_id=row["external_id"],
                   text=row["text"], url=row["url"], author=row["author"], title=row["title"],
                   published=row["published"], language=row["language"], reach=row["reach"],
                   rating=row["rating"], raw=loads(row["raw"], {}), id=row["id"])


def _source_or_none(config: Config, source_id: str) -> SourceOptions | None:
    try:
        return config.source(source_id)
    except KeyError:
        return None
