"""Database damage reaches the saved report's strip and /metrics, as it reaches `monitor status` and the strip.

The regression ("saved reports and /metrics do not carry database damage"): `database_damaged` was a typed
problem in `monitor status --json` and the dashboard's strip, but the strip kept in a saved report (the weekly
file, `monitor report`, /report.md) was built without the damage check, so a report made on a damaged database
said "All sources healthy", and /metrics had no figure for it. Now the kept strip says it (when the report can
be made at all: otherwise the command's one line says the database is damaged), and `monitor_database_damaged`
is 0/1, checked at most every DAMAGE_TTL_S (never a whole-file read per scrape).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.core import CollectorRegistry
from starlette.testclient import TestClient

from monitor.cli import main
from monitor.config.rules import load_rules
from monitor.config.settings import load_config
from monitor.ops.metrics import StoreCollector
from monitor.ops.ui import dashboard
from monitor.store.database import Store
from tests.conftest import write_config
from tests.health_fixtures import SOURCES, damage, healthy_store


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)     # SQLite's quick_check
    cfg, rules = write_config(tmp_path, sources=SOURCES, slack_mode="bot")
    store = healthy_store(tmp_path / "monitor.db", time.time())
    yield cfg, rules, store
    store.close()


def _quick_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = Store.quick_check

    def counted(self: Store) -> str | None:
        calls.append(self.path)
        return real(self)

    monkeypatch.setattr(Store, "quick_check", counted)
    return calls


def test_regression_a_report_made_on_a_damaged_database_said_all_healthy(site, capsys):
    cfg, _rules, store = site
    assert main(["report", "--config", str(cfg), "--format", "md"]) == 0
    assert "All sources healthy" in capsys.readouterr().out                     # sound: as before
    damage(store, "feedback")                                                   # a table the report does not read
    assert main(["report", "--config", str(cfg), "--format", "md"]) == 0
    out = capsys.readouterr().out
    health = out.split("## Monitor health when this report was made", 1)[1].split("\n\n", 1)[0]
    assert "- CRITICAL: The monitor's database is damaged" in health and "All sources healthy" not in health
    assert "is corrupted" in health


def test_a_report_that_cannot_be_read_is_one_line_saying_the_database_is_damaged(site, capsys):
    cfg, _rules, store = site
    damage(store, "alerts")                                                    # a table the report reads
    assert main(["report", "--config", str(cfg), "--format", "md"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert "is corrupted" in captured.err and "restore a backup" in captured.err     # what is wrong, what to do
    assert "SELECT" not in captured.err                                            # before: the driver's SQL


def test_the_dashboards_saved_report_carries_the_damage_on_its_cached_check(site, monkeypatch):
    cfg, rules, store = site
    damage(store, "feedback")
    calls = _quick_checks(monkeypatch)
    c = TestClient(dashboard(load_config(cfg), load_rules(rules), str(store.path), with_datasette=False).app,
                   base_url="http://127.0.0.1")
    md = c.get("/report.md")
    assert md.status_code == 200 and "CRITICAL: The monitor's database is damaged" in md.text
    assert c.get("/api/health").json()["healthy"] is False
    assert c.get("/report.md").status_code == 200
    assert len(calls) == 1                                  # one quick_check for the strip and both reports


def test_metrics_gauge_database_damaged_checked_at_most_every_five_minutes(site, monkeypatch):
    _cfg, _rules, store = site
    collector = StoreCollector(str(store.path))
    registry = CollectorRegistry()
    registry.register(collector)

    def gauge() -> str:
        [line] = [ln for ln in generate_latest(registry).decode().splitlines()
                  if ln.startswith("monitor_database_damaged ")]
        return line.split()[1]

    assert gauge() == "0.0"
    damage(store, "feedback")
    assert gauge() == "0.0"                                  # within DAMAGE_TTL_S: the cached check, no file read
    clock = [time.monotonic() + 301]
    monkeypatch.setattr("monitor.ops.metrics.time.monotonic", lambda: clock[0])
    assert gauge() == "1.0"
    text = generate_latest(registry).decode()
    assert "monitor_open_alerts" in text                     # the other figures are still there
    damage_checked = collector.damage_checked
    assert gauge() == "1.0" and collector.damage_checked == damage_checked   # not checked again on this scrape


def test_the_daemons_start_check_seeds_the_gauge(site):
    _cfg, _rules, store = site
    collector = StoreCollector(str(store.path))
    damage(store, "feedback")
    collector.checked(None)                                  # what the start found (before the damage, here)
    registry = CollectorRegistry()
    registry.register(collector)
    assert "monitor_database_damaged 0.0" in generate_latest(registry).decode()
