"""Never silent: every kind of problem `monitor status --json` reports has a line in the dashboard's strip, read
from the report's data (`issues[].kind`, the source record's `failing`), never from the status message's words.

The table (YAML) has one row per kind in `health.PROBLEM_KINDS`: how to cause it in a store, and the strip
line it must give. Each row runs twice: as worded, and with every status message reworded, which must not
change the strip's severity or kind (nor, for a source, its line)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from monitor.cli import main
from monitor.config.rules import load_rules
from monitor.config.settings import load_config
from monitor.ops import health, problems
from monitor.ops.ui import dashboard
from monitor.store.database import Store
from tests.conftest import write_config
from tests.health_fixtures import SOURCES, damage, healthy_store
from tests.pgserver import unprivileged_database

REPORT = "report:\n  slack_channel: C0123ABCD\n"

# kind: {sql: statements run on a healthy store (:now is the time), slack_mode / extra: the config, damage: a table
# whose page is overwritten with garbage (one `monitor status` does not read), postgres: unprivileged (the store is
# PostgreSQL, its role may not create extensions: tests/pgserver), line: the strip's}
TABLE = yaml.safe_load("""
source_overdue:
  sql: ["UPDATE sources SET last_attempt = :now - 7200, last_success = :now - 7200 WHERE id = 'news'"]
  line: {kind: source, severity: critical}
source_disabled:
  sql: ["UPDATE sources SET disabled_reason = 'HTTP 401' WHERE id = 'reviews-acme'"]
  line: {kind: source, severity: critical}
stream_down:
  sql: ["INSERT INTO stream_status (source_id, connected, updated_at, down_since) VALUES ('bsky', 0, :now - 5, :now - 3600)"]
  line: {kind: source, severity: critical}
source_failing:
  sql: ["UPDATE sources SET consecutive_failures = 3, last_error = 'HTTP 503' WHERE id = 'reviews-acme'"]
  line: {kind: source, severity: warning}
delivery_halted:
  sql: ["UPDATE deliveries SET last_error = 'halted: Slack refused the token: invalid_auth'"]
  line: {kind: delivery, severity: critical}
delivery_unrecorded:
  sql: ["UPDATE deliveries SET in_flight_at = :now - 600"]
  line: {kind: delivery, severity: warning}
delivery_stuck:
  sql: ["UPDATE deliveries SET created_at = :now - 3600, last_error = 'HTTP 503'"]
  line: {kind: delivery, severity: critical}
config:
  sql: ["INSERT INTO config_state (file, path, ok, at, message) VALUES ('rules', '/etc/monitor/rules.yaml', 0, :now, 'bad key')"]
  line: {kind: config, severity: warning}
slack_terminal:
  slack_mode: terminal
  line: {kind: slack, severity: critical}
replicas_differ:
  sql: ["INSERT INTO replicas (id, hostname, pid, started_at, seen_at, config_hash) VALUES ('a:1:x', 'a', 1, :now, :now, 'aaaa')",
        "INSERT INTO replicas (id, hostname, pid, started_at, seen_at, config_hash) VALUES ('b:2:y', 'b', 2, :now, :now, 'bbbb')"]
  line: {kind: replicas, severity: warning}
report_not_posted:
  extra: report
  sql: ["INSERT INTO reports (period, created_at, since, until, attempts, last_error) VALUES ('2026-W01', :now, :now - 604800, :now, 2, 'HTTP 500')"]
  line: {kind: report, severity: warning}
actions_stuck:
  sql: ["INSERT INTO alerts (id, group_key, targets, state, created_at, updated_at) VALUES (7, 'g', '[]', 'open', :now, :now)",
        "INSERT INTO actions (alert_id, name, kind, created_at) VALUES (7, 'jira', 'ticket', :now - 3600)"]
  line: {kind: actions, severity: warning}
actions_failed:
  sql: ["INSERT INTO alerts (id, group_key, targets, state, created_at, updated_at) VALUES (7, 'g', '[]', 'open', :now, :now)",
        "INSERT INTO actions (alert_id, name, kind, state, created_at) VALUES (7, 'jira', 'ticket', 'failed', :now - 60)"]
  line: {kind: actions, severity: warning}
routing_parked:
  sql: ["INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, route_attempts, route_error, route_failed_at, route_parked_at) VALUES ('news', 'rss', 'p1', 'acme', :now, 5, 'ValueError: boom', :now, :now)"]
  line: {kind: routing, severity: warning}
routing_paused:
  sql: ["INSERT INTO routing_pauses (replica, since, seen_at, cause, reason, waiting) VALUES ('local', :now - 600, :now, 'outage', 'database is locked', 3)"]
  line: {kind: routing, severity: critical}
routing_stalled:
  sql: ["INSERT INTO replicas (id, hostname, pid, started_at, seen_at, config_hash) VALUES ('a:1:x', 'a', 1, :now - 7200, :now, 'aaaa')",
        "INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at) VALUES ('news', 'rss', 's1', 'acme', :now - 3600)"]
  line: {kind: routing, severity: critical}
database_damaged:
  damage: feedback
  line: {kind: database, severity: critical}
search_accents:
  postgres: unprivileged
  line: {kind: search, severity: warning}
""")


def test_the_table_covers_every_problem_kind():
    assert set(TABLE) == set(health.PROBLEM_KINDS)


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)        # the dashboard is SQLite-only
    return "sqlite"


@pytest.fixture
def unprivileged(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The store on PostgreSQL as a role that may not create extensions, selected as an operator does."""
    with unprivileged_database() as (url, _admin):
        monkeypatch.setenv("MONITOR_DATABASE_URL", url)
        yield url


def _site(tmp_path: Path, row: dict, target: str | None = None) -> tuple[Path, Path, Store, float]:
    cfg, rules = write_config(tmp_path, sources=SOURCES, slack_mode=row.get("slack_mode", "bot"),
                              extra=REPORT if row.get("extra") == "report" else "")
    now = time.time()
    store = healthy_store(target or tmp_path / "monitor.db", now, queued=True)
    with store.tx() as db:
        for sql in row.get("sql", []):
            db.execute(sql, {"now": now})
    if row.get("damage"):
        damage(store, row["damage"])
    return cfg, rules, store, now


def _patch_problem(monkeypatch: pytest.MonkeyPatch, fn) -> None:
    """`problems.problem` replaced by `fn` in every module of the monitor that builds problems with it (health,
    checks, store_report...: found, not listed, so a module split off later is reworded too)."""
    real = problems.problem
    users = [m for name, m in list(sys.modules.items()) if name.startswith("monitor.") and getattr(m, "problem", None) is real]
    assert health in users and len(users) >= 3, users
    for m in users:
        monkeypatch.setattr(m, "problem", fn)


def _reworded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every message `monitor status` prints, reworded (no "in a row", no "delivery halted"...)."""
    real = problems.problem
    _patch_problem(monkeypatch, lambda kind, detail, prefix="": real(kind, f"Reworded: {kind} ({len(detail)})", prefix))


@pytest.mark.parametrize("reword", [False, True], ids=["as-worded", "reworded"])
@pytest.mark.parametrize("kind", sorted(TABLE))
def test_every_status_problem_has_a_strip_line(tmp_path, backend, capsys, monkeypatch, request, kind, reword):
    row = TABLE[kind]
    cfg, rules, store, _ = _site(tmp_path, row, request.getfixturevalue(row["postgres"]) if "postgres" in row else None)
    try:
        if reword:
            _reworded(monkeypatch)
        assert main(["status", "--config", str(cfg), "--json"]) == 1
        rep = json.loads(capsys.readouterr().out)
        assert [i["kind"] for i in rep["issues"]] == [kind] and rep["problems"] == [i["text"] for i in rep["issues"]]
        c = TestClient(dashboard(load_config(cfg), load_rules(rules), str(store.path), with_datasette=False).app,
                       base_url="http://127.0.0.1")
        body = c.get("/api/health").json()
        lines = [ln for ln in body["lines"] if ln["severity"] != "info"]
        assert body["healthy"] is False and body["problems"] == len(lines) == 1, body
        assert {k: lines[0][k] for k in ("kind", "severity")} == row["line"], lines[0]
        assert "Reworded" not in lines[0]["text"] or row["line"]["kind"] not in ("source", "delivery", "routing")
    finally:
        store.close()


def test_regression_rewording_the_failing_message_leaves_the_strip_line_as_it_was(tmp_path, backend, monkeypatch):
    """Regression: the strip found a failing source by looking for "in a row" in `monitor status`'s message, so
    rewording it dropped the line. The source record carries `failing` (its failures reached its threshold)."""
    cfg, rules, store, _ = _site(tmp_path, TABLE["source_failing"])
    try:
        def line() -> dict:
            c = TestClient(dashboard(load_config(cfg), load_rules(rules), str(store.path), with_datasette=False).app,
                           base_url="http://127.0.0.1")
            [ln] = [ln for ln in c.get("/api/health").json()["lines"] if ln["kind"] == "source"]
            return ln
        before = line()
        _patch_problem(monkeypatch, lambda kind, detail, prefix="": {"kind": kind, "text": "x", "detail": "x"})
        assert line() == before and before["severity"] == "warning"
        assert before["text"].startswith("Source reviews-acme is failing: its last 3 checks failed")
        rep = health.report(load_config(cfg), store, time.time())
        [src] = [s for s in rep["sources"] if s["id"] == "reviews-acme"]
        assert src["failing"] is True and src["problems"] == ["x"]
        assert health.render(rep)[1].startswith("FAIL reviews-acme")          # `monitor status` reads it too
    finally:
        store.close()


def test_regression_a_page_on_a_damaged_database_says_what_is_wrong_and_what_to_do(tmp_path, backend):
    """Regression: a page whose query met the damaged part answered 503 with the driver's error and the SQL, not
    that the database is damaged nor what to do; now it says both, as `monitor status` does, the path escaped."""
    site = tmp_path / "<b>acme&co"
    site.mkdir()
    cfg, rules, store, _ = _site(site, {})
    try:
        damage(store, "alerts")
        c = TestClient(dashboard(load_config(cfg), load_rules(rules), str(store.path), with_datasette=False).app,
                       base_url="http://127.0.0.1")
        for path in ("/alerts", "/api/health"):
            r = c.get(path)
            assert r.status_code == 503 and r.headers["content-type"].startswith("text/html"), (path, r.text)
            assert "The monitor's database is damaged" in r.text and "restore a backup" in r.text
            assert "&lt;b&gt;acme&amp;co" in r.text and "<b>acme" not in r.text
            assert "SELECT" not in r.text
    finally:
        store.close()
