"""Poison mentions: a mention whose analysis or routing raises is rolled back alone, counted in its row,
retried after a backoff, parked after `daemon.max_route_attempts`, shown by `monitor status` and the metrics,
and routed once (no duplicate alert) after `monitor retry-mentions`.

The regression: `process_pending` had no per-mention guard, and pending rows are claimed oldest first, so one
poison mention at the head blocked routing of every later pending mention, on every pass, forever.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.analyse.analyzer import Analyzer
from monitor.core.clock import FakeClock
from monitor.core.model import Mention
from monitor.ops import health
from monitor.ops.metrics import Metrics
from monitor.runtime.pipeline import ROUTE_BACKOFF_MAX_S, Pipeline
from monitor.sources import SourceOptions
from monitor.store.database import Store
from tests.conftest import RULES, cli, write_config
from tests.harness import NEGATIVE, Harness

POISON = "POISON acme support was awful and the refund never came"
SECRET = "xoxb-not-a-real-token"


@pytest.fixture
def poison(monkeypatch):
    """An analyzer whose scoring raises for one untrusted text (a scorer bug), until `fixed` is set."""
    state = {"fixed": False, "calls": 0}
    real = Analyzer.analyze

    def analyze(self, m, *a, **kw):
        if "POISON" in (m.text or "") and not state["fixed"]:
            state["calls"] += 1
            # a message quoting the text and a URL with a token: neither may reach the database
            raise RuntimeError(f"scorer bug on {m.text!r} via https://api.example/x?token={SECRET}")
        return real(self, m, *a, **kw)

    monkeypatch.setattr(Analyzer, "analyze", analyze)
    return state


def _row(h: Harness, text: str) -> dict:
    return h.app.store.one("SELECT * FROM mentions WHERE text = ?", (text,))


def _alerted(h: Harness) -> int:
    return h.app.store.one("SELECT COUNT(*) AS n FROM alerts")["n"]


def _pass_after(h: Harness, seconds: float) -> None:
    h.clock.advance(seconds)
    h.app.pipeline.process_pending()


@pytest.fixture
def h(tmp_path, backend):
    harness = Harness(tmp_path, RULES)
    yield harness
    harness.close()


def test_regression_one_poison_mention_blocked_every_later_pending_mention(h, poison):
    h.mention(POISON, process=False)                        # the oldest pending row: claimed first
    for i in range(3):
        h.mention(f"{NEGATIVE} {i}", process=False)
    assert h.app.pipeline.process_pending() == 3           # raised before, and routed nothing
    assert h.app.store.one("SELECT COUNT(*) AS n FROM mentions WHERE processed_at IS NULL")["n"] == 1
    assert _alerted(h) >= 1
    bad = _row(h, POISON)
    assert (bad["processed_at"], bad["route_attempts"], bad["route_parked_at"]) == (None, 1, None)
    assert bad["route_error"].startswith("RuntimeError: ")
    assert "acme support" not in bad["route_error"] and SECRET not in bad["route_error"]
    assert bad["claimed_until"] is None                       # its claim released for the next replica
    assert poison["calls"] == 1                               # tried once in the pass, not in a loop


def test_process_batch_isolates_the_poison_mention_and_counts_it(h, poison):
    source = SourceOptions(id="news", kind="rss")
    mentions = [Mention(source_id="news", source_kind="rss", external_id=f"b{i}", text=t, author=f"u{i}")
                for i, t in enumerate([f"{NEGATIVE} a", POISON, f"{NEGATIVE} b"])]
    ids = h.app.pipeline.ingest_batch(source, mentions, cursor=None)
    assert h.app.pipeline.process_batch(ids) == 2
    assert _row(h, POISON)["route_attempts"] == 1
    assert _row(h, f"{NEGATIVE} b")["processed_at"] is not None


def test_attempts_count_across_passes_then_parked_and_no_longer_retried(h, poison, caplog):
    h.mention(POISON, process=False)
    caplog.set_level(logging.WARNING, logger="monitor.runtime.pipeline")
    h.app.pipeline.process_pending()
    h.app.pipeline.process_pending()                          # within its backoff: not tried again
    assert (_row(h, POISON)["route_attempts"], poison["calls"]) == (1, 1)
    for attempt in range(2, 6):
        _pass_after(h, ROUTE_BACKOFF_MAX_S)
        assert _row(h, POISON)["route_attempts"] == attempt
    assert _row(h, POISON)["route_parked_at"] is not None     # parked after daemon.max_route_attempts (5)
    for _ in range(3):
        _pass_after(h, 10 * ROUTE_BACKOFF_MAX_S)
    assert (_row(h, POISON)["route_attempts"], poison["calls"]) == (5, 5)
    h.mention(f"{NEGATIVE} later")                            # nothing behind it is held up
    assert _row(h, f"{NEGATIVE} later")["processed_at"] is not None
    parked = [r for r in caplog.records if r.levelno == logging.ERROR and "parked" in r.getMessage()]
    assert len(parked) == 1 and parked[0].mention_id == _row(h, POISON)["id"]
    assert len([r for r in caplog.records if r.levelno == logging.WARNING and "failed (attempt" in r.getMessage()]) == 4


def test_status_health_and_metrics_show_parked_mentions_and_how_to_retry(h, poison, capsys, backend):
    h.mention(POISON, process=False)
    h.app.pipeline.process_pending()
    rep = health.report(h.app.config, h.app.store, h.clock.now())
    assert rep["routing"]["retrying"] == 1 and rep["routing"]["parked"] == 0
    assert not any(p.startswith("routing:") for p in rep["problems"])     # retried: shown, not yet a problem
    for _ in range(4):
        _pass_after(h, ROUTE_BACKOFF_MAX_S)
    rep = health.report(h.app.config, h.app.store, h.clock.now())
    assert not rep["healthy"] and rep["routing"]["parked"] == 1
    problem = next(p for p in rep["problems"] if p.startswith("routing:"))
    assert "1 mention(s) parked after 5 failed routing attempts" in problem and "RuntimeError" in problem
    assert "monitor retry-mentions --all" in problem
    text = "\n".join(health.render(rep))
    assert "routing: 1 mention(s) parked" in text and "to route them again:" in text

    cfg = ["--config", str(h.cfg), "--rules", str(h.rules_path)]
    assert cli("status", "--json", *cfg) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["routing"]["parked"] == 1 and out["routing"]["latest"]["mention_id"] == _row(h, POISON)["id"]
    assert out["routing"]["retry"] == "monitor retry-mentions --all"
    if backend == "sqlite":                   # the ops view: Datasette's saved query, and the metrics
        import yaml
        meta = yaml.safe_load((Path(__file__).resolve().parents[1] / "monitor/data/datasette.yaml").read_text())
        with sqlite3.connect(h.app.db_path) as conn:
            listed = conn.execute(meta["databases"]["monitor"]["queries"]["mentions_not_routed"]["sql"]).fetchall()
        assert [(r[0], r[2], r[3]) for r in listed] == [(_row(h, POISON)["id"], "parked", 5)]
        from prometheus_client import generate_latest
        metrics = Metrics(h.app.db_path)
        scraped = generate_latest(metrics.registry).decode()
        metrics.close()
        assert 'monitor_mentions_route_failed{state="parked"} 1.0' in scraped


def test_retry_command_routes_a_parked_mention_once_without_duplicate_alert(h, poison, capsys):
    h.mention(POISON, process=False)
    h.app.pipeline.process_pending()
    for _ in range(4):
        _pass_after(h, ROUTE_BACKOFF_MAX_S)
    mention_id = _row(h, POISON)["id"]
    cfg = ["--config", str(h.cfg), "--rules", str(h.rules_path)]

    assert cli("retry-mentions", *cfg) == 2                          # neither --id nor --all
    assert cli("retry-mentions", "--id", "x", *cfg) == 2
    assert cli("retry-mentions", "--id", str(mention_id + 99), *cfg) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("monitor retry-mentions")]
    assert len(err) == 3 and "nothing was reset" in err[-1]                # one line each
    assert _row(h, POISON)["route_parked_at"] is not None               # a bad id resets nothing

    poison["fixed"] = True                                              # ops fixed the rule / upgraded
    assert cli("retry-mentions", "--id", str(mention_id), *cfg) == 0
    assert "1 mention(s) reset" in capsys.readouterr().out
    h.app.pipeline.process_pending()
    h.app.pipeline.process_pending()
    row = _row(h, POISON)
    assert row["processed_at"] is not None and row["status"] == "routed"
    linked = h.app.store.query("SELECT alert_id FROM alert_mentions WHERE mention_id = ?", (mention_id,))
    assert len(linked) == 1                                              # one alert, not two
    h.tick(flush_waiting=True)
    assert sum("refund" in p.text or "support" in p.text for p in h.sender.roots()) == 1
    assert cli("retry-mentions", "--id", str(mention_id), *cfg) == 2  # routed: nothing to retry
    assert cli("retry-mentions", "--all", *cfg) == 0
    assert "no parked or failing mentions" in capsys.readouterr().out
    rep = health.report(h.app.config, h.app.store, h.clock.now())
    assert rep["routing"]["parked"] == 0 and not any(p.startswith("routing:") for p in rep["problems"])


def test_a_database_constraint_failure_is_rolled_back_alone(h):
    """A real failure inside the routing transaction (a trigger aborting the UPDATE): its savepoint rolls back,
    nothing of it is kept (no alert), the count is written in a transaction of its own."""
    if h.app.store.is_postgres:
        pytest.skip("the SQLite trigger stands in for a constraint; the analyzer fault covers PostgreSQL")
    _poison_trigger(h.app.store)
    h.mention(POISON, process=False)
    h.mention(f"{NEGATIVE} next", process=False)
    assert h.app.pipeline.process_pending() == 1
    bad = _row(h, POISON)
    assert bad["route_attempts"] == 1 and bad["route_error"].startswith("IntegrityError: poison constraint")
    assert bad["status"] is None and h.app.store.one(
        "SELECT COUNT(*) AS n FROM alert_mentions WHERE mention_id = ?", (bad["id"],))["n"] == 0


def _poison_trigger(store: Store) -> None:
    with store.tx() as db:
        db.execute("CREATE TRIGGER poison BEFORE UPDATE OF processed_at ON mentions WHEN NEW.processed_at IS NOT NULL"
                   " AND OLD.text LIKE '%POISON%' BEGIN SELECT RAISE(ABORT, 'poison constraint'); END")


def _count(db: Path, sql: str) -> int | None:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            row = conn.execute(sql).fetchone()
            return row[0] if row else None
    except sqlite3.OperationalError:
        return None


def test_the_failure_count_survives_kill_9_between_passes(tmp_path):
    """A real daemon routes at start (the poison mention fails once, its neighbour is routed), is killed with
    SIGKILL, and the next process finds the count and goes on from it."""
    os.environ.pop("MONITOR_DATABASE_URL", None)
    cfg, rules = write_config(tmp_path, sources="[]\n")
    db = tmp_path / "monitor.db"
    store = Store(db)
    _poison_trigger(store)
    ingest = Pipeline(store, lambda: None)  # type: ignore[arg-type,return-value]
    ingest.ingest(SourceOptions(id="news", kind="rss"), _result([POISON, f"{NEGATIVE} next"]))
    store.close()
    cmd = [sys.executable, "-m", "monitor", "run", "--config", str(cfg), "--rules", str(rules)]
    daemon = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while (_count(db, "SELECT route_attempts FROM mentions WHERE text LIKE 'POISON%'") != 1
               or _count(db, "SELECT COUNT(*) FROM mentions WHERE processed_at IS NOT NULL") != 1):
            assert time.monotonic() < deadline and daemon.poll() is None, "the daemon never routed the pass"
            time.sleep(0.05)
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(10)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(10)
    assert _count(db, "SELECT COUNT(*) FROM mentions WHERE processed_at IS NOT NULL") == 1    # its neighbour

    h = Harness(tmp_path, RULES, clock=FakeClock(time.time() + ROUTE_BACKOFF_MAX_S))   # the next process, later
    try:
        assert _row(h, POISON)["route_attempts"] == 1                   # the count survived the kill
        h.app.pipeline.process_pending()
        assert _row(h, POISON)["route_attempts"] == 2
    finally:
        h.close()


def _result(texts: list[str]):
    from monitor.sources import CollectResult
    return CollectResult(mentions=[Mention(source_id="news", source_kind="rss", external_id=f"k{i}", text=t,
                                           author=f"u{i}") for i, t in enumerate(texts)])
