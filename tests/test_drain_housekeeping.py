"""A daemon stopped (SIGTERM) while one of its scheduler's housekeeping jobs runs (here the daily retention, a first
prune of many batches) waits for that job within the drain bound, then closes the store: exit 0 within
`daemon.drain_timeout`, no job meeting a closed database, and retention left whole for the next start.

Regression (round 23): the drain stopped the scheduler with `shutdown(wait=False)` and closed the store without
waiting for the jobs still running (alert timers, retention, digests, the weekly report, the watchdog), so a
retention batch in progress at the stop ran on against the closed store (`Cannot operate on a closed database`,
`retention failed`). Now every job is registered while it runs (`DaemonLoops.job`), a job not begun by the stop does
not begin, and the drain waits for those running as it waits for the polls; one still running at the bound is named
(`job:<id>` in `abandoned=[…]`) and the process exits within the bound regardless.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from monitor.runtime.daemon import App, Paths
from tests.conftest import write_config
from tests.fakes.feeds import Feed
from tests.fakes.process import MonitorProcess, count_in
from tests.test_daemon_signals import _wait

pytestmark = pytest.mark.slow
DAY = 86400.0
DRAIN_S = 3.0
OLD = 40_000            # unlinked old mentions: 20 batches of 2,000, each a few hundred ms with its search index
TEXT = "Acme " + "lorem ipsum dolor sit amet consectetur " * 12
CLOSED = ("closed database", "Cannot operate on a closed database", "retention failed", "Traceback")


def _site(tmp_path: Path, feed_server) -> tuple[Path, Path]:
    """A daemon with a 1-day retention over OLD mentions ten days old, all routed (as a long-unpruned database)."""
    feed_server.feeds["/news.xml"] = Feed([])
    cfg, rules = write_config(tmp_path, sources=f"- id: news\n  kind: rss\n  url: {feed_server.feed_url('/news.xml')}\n",
                              extra=f"daemon:\n  drain_timeout: {DRAIN_S:g}s\n")
    cfg.write_text(cfg.read_text().replace("storage:\n", "storage:\n  retention: 1d\n"))
    app = App(Paths(str(cfg), str(rules)))
    try:
        then = time.time() - 10 * DAY
        with app.store.tx() as db:
            db.conn.executemany(
                "INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, processed_at, brands,"
                " status, negative) VALUES ('news', 'rss', ?, ?, ?, ?, '[\"acme\"]', 'matched', 0)",
                [(f"old-{i}", TEXT, then, then) for i in range(OLD)])
    finally:
        app.close()
    return cfg, rules


def _daemon(cfg: Path, rules: Path) -> MonitorProcess:
    """`monitor run`, its first retention check at once instead of a minute after the start."""
    proc = MonitorProcess(["run", "--config", str(cfg), "--rules", str(rules)])
    proc.args = [sys.executable, "-c", "import sys; from monitor.runtime.daemon import Daemon;"
                 " Daemon.RETENTION_FIRST_S = 0.0; from monitor.cli import main; sys.exit(main())",
                 *proc.args[3:]]
    return proc


def _left(db: Path) -> int:
    return count_in(db, "SELECT COUNT(*) FROM mentions")


def _counted(db: Path) -> int:
    return count_in(db, "SELECT COALESCE(SUM(mentions), 0) FROM mention_daily WHERE brand = ''")


def test_sigterm_during_retention_waits_for_its_batch_then_closes_the_store_and_the_next_start_finishes_it(
        tmp_path, feed_server):
    cfg, rules = _site(tmp_path, feed_server)
    db = tmp_path / "monitor.db"
    with _daemon(cfg, rules) as daemon:
        daemon.wait_for("polled source_id=news")                 # no poll in progress: the drain has only the job
        _wait(lambda: _left(db) < OLD, timeout=60, what="retention's first batch")
        first = time.monotonic()
        _wait(lambda: _left(db) < OLD - 2000, timeout=60, what="retention's second batch")
        time.sleep((time.monotonic() - first) / 2)              # the signal lands in the middle of a batch
        log = daemon.stop_within(DRAIN_S, 1.5, "a daemon in the middle of retention, stopped by SIGTERM")
    for said in CLOSED:
        assert said not in log, log
    assert "retention cut short by the stop after" in log, log
    assert "abandoned" not in log, log
    left = _left(db)
    assert 0 < left < OLD, "retention was not cut between two batches"
    assert _counted(db) + left == OLD, "a pruned mention not counted, or counted twice"
    assert count_in(db, "SELECT COUNT(*) FROM maintenance WHERE job = 'retention'") == 0, "recorded though cut"

    with _daemon(cfg, rules) as again:                         # the next start goes on where it stopped
        again.wait_for("retention: pruned", timeout=120)
        again.stop_within(DRAIN_S, 1.5, "an idle daemon, stopped by SIGTERM")
    assert _left(db) == 0 and _counted(db) == OLD
    assert count_in(db, "SELECT COUNT(*) FROM maintenance WHERE job = 'retention'") == 1
