"""Retention: keep the database bounded without losing what ops and the comms team rely on.

Mentions older than `storage.retention` are deleted, except those linked to an alert or to feedback: an
alert keeps its evidence for as long as the alert exists, and alerts, their events and their messages are
never pruned (time-to-acknowledge history is the point of keeping them). Before a mention goes, it is
counted into `mention_daily` (per day, source and brand: collected, matched, negative) in the same
transaction, so daily trends and the Prometheus counters derived from them survive pruning. Operational
notices (source health, config errors) that were sent or failed long ago are deleted too.

SQLite reuses the pages freed by a delete, so the file stops growing once retention is in steady state;
the WAL is checkpointed after a prune so it does not keep the high-water mark either.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.store.database import Store
from monitor.store.leases import Coordinator

log = logging.getLogger(__name__)

JOB = "retention"
EVERY_S = 86400.0          # daily: the daemon checks hourly, `--once` on every pass; the db remembers the last run
BATCH = 2000               # rows per transaction: the write lock is never held for long

_CANDIDATES = """
    SELECT id FROM mentions m
    WHERE collected_at < ? AND processed_at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM alert_mentions am WHERE am.mention_id = m.id)
      AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.mention_id = m.id)
    ORDER BY id LIMIT ?"""
_UPSERT = """
    INSERT INTO mention_daily (day, source_id, brand, mentions, matched, negative) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (day, source_id, brand) DO UPDATE SET mentions = mention_daily.mentions + excluded.mentions,
        matched = mention_daily.matched + excluded.matched, negative = mention_daily.negative + excluded.negative"""


def _summarise(db: Any, ids: list[int]) -> None:
    """Count the mentions about to go into mention_daily: per day and source (brand ''), and per brand.

    Done in Python rather than with SQLite's json_each/date(): the same code on both backends, and a batch is
    at most BATCH rows already in memory."""
    marks = ",".join("?" * len(ids))
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for collected_at, source_id, brands, status, negative in db.execute(
            f"SELECT collected_at, source_id, brands, status, negative FROM mentions WHERE id IN ({marks})",
            tuple(ids)).fetchall():
        day = datetime.fromtimestamp(collected_at, UTC).strftime("%Y-%m-%d")
        neg = int(negative or 0)
        total = counts[(day, source_id, "")]
        total[0] += 1
        total[1] += status in ("matched", "routed")
        total[2] += neg
        try:
            names = json.loads(brands) if brands else []
        except ValueError:
            names = []
        for brand in names if isinstance(names, list) else []:
            if isinstance(brand, str):
                c = counts[(day, source_id, brand)]
                c[0] += 1
                c[1] += 1
                c[2] += neg
    for (day, source_id, brand), (n, matched, neg) in counts.items():
        db.execute(_UPSERT, (day, source_id, brand, n, matched, neg))


@dataclass
class PruneResult:
    mentions: int = 0
    notices: int = 0
    kept_linked: int = 0      # older than the cutoff but kept: linked to an alert or feedback
    cutoff: float = 0.0
    cut: bool = False         # the stop came between two batches with mentions left: not recorded as run (below)


def prune(store: Store, retention_s: float, *, batch: int = BATCH,
          stop: threading.Event | None = None) -> PruneResult:
    """Delete what is older than `retention_s`; idempotent and safe to interrupt (each batch is atomic).

    `stop` set (the daemon's or a `--once` pass's signal) ends it between two batches: what was pruned stays
    pruned (and counted), the run is not recorded, so the next pass (or the daemon's next hourly check) goes on
    where this one stopped. Why: a first prune of a large, long-unpruned database is many batches, each holding
    the write lock, and a stop must not wait for all of them (systemd kills past TimeoutStopSec)."""
    now = store.now()
    cutoff = now - retention_s
    result = PruneResult(cutoff=cutoff)
    while True:
        with store.tx() as db:
            ids = [r[0] for r in db.execute(_CANDIDATES, (cutoff, batch)).fetchall()]
            if not ids:
                break
            if stop is not None and stop.is_set():      # between two batches, with mentions left to prune
                result.cut = True
                break
            _summarise(db, ids)
            result.mentions += db.execute(f"DELETE FROM mentions WHERE id IN ({','.join('?' * len(ids))})",
                                          tuple(ids)).rowcount
        if len(ids) < batch:
            break
    if result.cut:
        log.warning("retention cut short by the stop after %d mention(s) pruned: the next run goes on",
                    result.mentions, extra={"mentions": result.mentions})
        return result
    if result.mentions and store.dialect == "sqlite":
        # The search index (mentions_fts, kept by triggers) records deletions as markers merged away only
        # lazily; merging it once after a prune keeps the file flat (SQLite < 3.42 has no secure-delete).
        with store.tx() as db:
            db.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('optimize')")
    with store.tx() as db:
        result.notices = db.execute(
            "DELETE FROM deliveries WHERE alert_id IS NULL AND state IN ('sent', 'failed') AND created_at < ?"
            " AND id NOT IN (SELECT parent_id FROM deliveries WHERE parent_id IS NOT NULL)", (cutoff,)).rowcount
        row = db.execute("SELECT COUNT(*) FROM mentions WHERE collected_at < ?", (cutoff,)).fetchone()
        result.kept_linked = int(row[0])
        detail = json.dumps({"mentions": result.mentions, "notices": result.notices, "kept": result.kept_linked})
        db.execute("INSERT INTO maintenance (job, last_run, detail) VALUES (?, ?, ?) ON CONFLICT (job) DO UPDATE"
                   " SET last_run = excluded.last_run, detail = excluded.detail", (JOB, now, detail))
    if (result.mentions or result.notices) and not store.is_postgres:     # PostgreSQL: autovacuum's job
        try:
            store.query("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception as exc:  # noqa: BLE001 - a busy checkpoint is retried by SQLite later; never fatal
            log.debug("wal checkpoint after prune skipped: %s", exc)
    log.info("retention: pruned", extra={"mentions": result.mentions, "notices": result.notices,
                                         "kept_linked": result.kept_linked, "older_than_days": round(retention_s / 86400, 1)})
    return result


def last_run(store: Store) -> float | None:
    row = store.one("SELECT last_run FROM maintenance WHERE job = ?", (JOB,))
    return float(row["last_run"]) if row else None


def run_if_due(store: Store, retention_s: float | None, *, every_s: float = EVERY_S,
               stop: threading.Event | None = None) -> PruneResult | None:
    """Prune when the last run is at least `every_s` old (or never happened), until `stop` (`prune`); None when
    not due or disabled."""
    if retention_s is None:
        return None
    last = last_run(store)
    if last is not None and store.now() - last < every_s:
        return None
    try:
        with Coordinator.of(store).holding(JOB) as lease:     # one replica prunes; the others skip
            if lease is None or ((last := last_run(store)) is not None and store.now() - last < every_s):
                return None
            return prune(store, retention_s, stop=stop)
    except Exception:
        log.exception("retention failed; the next run will try again")
        return None
