"""`monitor status`: per-source health, the outbox, open alerts by owner, and an exit status ops can alert on."""

from __future__ import annotations

import json
import time

import pytest

from monitor.cli import main
from monitor.store.database import Store, dumps
from tests.conftest import write_config

SOURCES = """\
    - id: healthy
      kind: rss
      url: http://127.0.0.1:9/a.xml
      every: 5m
    - id: failing
      kind: rss
      url: http://127.0.0.1:9/b.xml
      failure_alert_after: 3
    - id: refused
      kind: rss
      url: http://127.0.0.1:9/c.xml
    - id: new
      kind: rss
      url: http://127.0.0.1:9/d.xml
    - id: paused
      kind: rss
      url: http://127.0.0.1:9/e.xml
      enabled: false
"""


@pytest.fixture
def setup(tmp_path):
    cfg, rules = write_config(tmp_path, sources=SOURCES, slack_mode="bot")
    store = Store(tmp_path / "monitor.db")
    now = time.time()
    with store.tx() as db:
        db.execute("INSERT INTO sources (id, kind, last_attempt, last_success) VALUES ('healthy', 'rss', ?, ?)",
                   (now - 60, now - 60))
        db.execute("INSERT INTO sources (id, kind, last_attempt, last_success, last_error, last_error_at,"
                   " consecutive_failures, next_run) VALUES ('failing', 'rss', ?, ?, 'HTTP 503 from x', ?, 1, ?)",
                   (now - 30, now - 3600, now - 30, now + 600))
        db.execute("INSERT INTO sources (id, kind, last_attempt) VALUES ('refused', 'rss', ?)", (now - 30,))
        for i, (owners, state) in enumerate([(["comms-oncall"], "open"), (["comms-oncall", "security"], "open"),
                                             (["support-lead"], "acknowledged"), (["support-lead"], "resolved")]):
            db.execute("INSERT INTO alerts (group_key, targets, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                       (f"g{i}", dumps([{"owner": o, "channel": f"#{o}"} for o in owners]), state, now - 100, now))
        db.execute("INSERT INTO deliveries (dedupe_key, kind, channel, payload, created_at) VALUES"
                   " ('d1', 'post', '#comms-alerts', '{}', ?)", (now - 120,))
    yield cfg, rules, store, now
    store.close()


def _status(cfg, capsys) -> tuple[int, dict]:
    rc = main(["status", "--config", str(cfg), "--json"])
    return rc, json.loads(capsys.readouterr().out)


def test_healthy_report_and_exit_0(setup, capsys):
    cfg, _rules, _store, now = setup
    rc, rep = _status(cfg, capsys)
    assert rc == 0, rep["problems"]
    src = {s["id"]: s for s in rep["sources"]}
    assert src["healthy"]["last_success"] and src["healthy"]["consecutive_failures"] == 0
    assert src["healthy"]["next_run"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60 + 300))
    assert src["failing"]["last_error"] == "HTTP 503 from x" and src["failing"]["consecutive_failures"] == 1
    assert src["failing"]["next_run"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 600))  # backoff
    assert src["new"]["last_success"] is None and src["new"]["healthy"]
    assert src["paused"]["next_run"] is None
    assert rep["outbox"]["pending"] == 1 and rep["outbox"]["oldest_pending"] and not rep["outbox"]["stuck"]
    assert rep["open_alerts"] == {"comms-oncall": 2, "support-lead": 1, "security": 1}
    assert rep["unacknowledged"]["count"] == 2


@pytest.mark.parametrize("change, problem", [
    ("UPDATE sources SET consecutive_failures = 3 WHERE id = 'failing'", "source failing: 3 failed polls in a row"),
    ("UPDATE sources SET disabled_reason = 'HTTP 401 from x' WHERE id = 'refused'",
     "source refused: disabled: HTTP 401 from x"),
    ("UPDATE sources SET last_attempt = last_attempt - 7200, last_success = last_success - 7200 WHERE id = 'healthy'",
     "source healthy: not polled for 2h1m"),
    ("UPDATE deliveries SET created_at = created_at - 3600", "outbox: oldest message waiting for 1h2m"),
    ("UPDATE deliveries SET last_error = 'halted: Slack refused the token: invalid_auth'",   # as the outbox stores it
     "outbox: delivery halted: Slack refused the token: invalid_auth"),
])
def test_unhealthy_exits_1_and_says_why(setup, capsys, change, problem):
    cfg, _rules, store, _now = setup
    with store.tx() as db:
        db.execute(change)
    rc, rep = _status(cfg, capsys)
    assert rc == 1
    assert not rep["healthy"]
    assert any(p.startswith(problem) for p in rep["problems"]), rep["problems"]


def test_text_output(setup, capsys):
    cfg, _rules, store, _now = setup
    with store.tx() as db:
        db.execute("UPDATE sources SET consecutive_failures = 3 WHERE id = 'failing'")
    rc = main(["status", "--config", str(cfg)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "FAIL failing" in out and "last error: HTTP 503 from x" in out
    assert "ok   healthy" in out and "off  paused" in out
    assert "outbox: 1 pending, oldest" in out
    assert "open alerts: comms-oncall 2, security 1, support-lead 1" in out
    assert "UNHEALTHY:\n  - source failing: 3 failed polls in a row" in out


def test_status_never_creates_or_migrates_the_database(tmp_path, capsys):
    """Regression: `monitor status` opened the database read-write and migrated it, so a root-run status could
    leave files the service user cannot open; now it only reads, and says so when there is nothing to read."""
    from monitor.cli import main
    from tests.conftest import write_config

    cfg, rules = write_config(tmp_path, sources="[]\n")
    db = tmp_path / "monitor.db"
    assert main(["status", "--config", str(cfg), "--rules", str(rules)]) == 1
    assert not db.exists() and "no database" in capsys.readouterr().err
    import sqlite3
    sqlite3.connect(db).execute("PRAGMA user_version=1").connection.close()       # an old schema
    assert main(["status", "--config", str(cfg), "--rules", str(rules)]) == 1
    assert "start the daemon once to migrate" in capsys.readouterr().err
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 1     # untouched


def test_a_source_that_never_succeeded_is_failing_not_ok(setup, capsys):
    """Regression: a source that never worked showed as "ok … last ok never"."""
    cfg, _rules, store, now = setup
    with store.tx() as db:
        db.execute("UPDATE sources SET consecutive_failures = 2, last_error = 'DNS failure', last_error_at = ?"
                   " WHERE id = 'refused'", (now - 30,))
    main(["status", "--config", str(cfg)])
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if " refused " in ln)
    assert "failing since its first poll (never succeeded)" in line and "last ok never" not in line
    assert not line.startswith("ok")
    failing = next(ln for ln in out.splitlines() if " failing " in ln)
    assert "failing since" in failing


def test_terminal_mode_is_unhealthy_alerts_reach_nobody(tmp_path, capsys):
    cfg, rules = write_config(tmp_path, sources="[]\n", slack_mode="terminal")
    Store(tmp_path / "monitor.db").close()
    assert main(["status", "--config", str(cfg), "--rules", str(rules)]) == 1
    assert "slack.mode is terminal: alerts are printed by the daemon and reach nobody" in capsys.readouterr().out


def test_status_says_why_replies_and_tickets_failed_and_which_attempts_were_interrupted(setup, capsys):
    """Regression (round 23, a respond-side cause seen only as a count): `monitor status` said "1 failed" for
    replies and tickets, and nothing of an attempt whose process died (its claim lapsed, the row waiting for
    the next pass, maybe already on the platform). Now the newest failures say why, and those attempts are named."""
    cfg, _rules, store, now = setup
    policy = ("refused to connect to 10.0.0.5: not a public address and not an endpoint configured in monitor.yaml"
              " (set http.allow_private: true if this is intended)")
    with store.tx() as db:
        for state, error, created, claim in [
                ("failed", "old: out of the 7-day window", now - 8 * 86400, None),
                ("failed", policy, now - 50, None),
                ("approved", None, now - 40, ("host-a:42", now - 10)),      # its process died: claim lapsed
                ("approved", None, now - 30, ("host-b:7", now + 60))]:      # being posted right now
            db.execute("INSERT INTO replies (alert_id, platform, text, author, state, last_error, created_at,"
                       " claimed_by, claimed_until) VALUES (1, 'mastodon', 'Sorry', 'amy', ?, ?, ?, ?, ?)",
                       (state, error, created, *(claim or (None, None))))
        db.execute("INSERT INTO actions (alert_id, name, kind, state, last_error, created_at) VALUES"
                   " (2, 'jira-security', 'jira', 'failed', '$T_TOKEN is not set', ?)", (now - 20,))
    rc, rep = _status(cfg, capsys)
    assert rep["responses"]["latest_failures"] == [
        {"name": "ticket:1", "what": "jira-security", "error": "$T_TOKEN is not set"},
        {"name": "reply:2", "what": "mastodon", "error": policy}]
    assert [(c["name"], c["holder"]) for c in rep["responses"]["interrupted"]] == [("reply:3", "host-a:42")]
    main(["status", "--config", str(cfg)])
    out = capsys.readouterr().out
    assert "     ticket:1 (jira-security) failed: $T_TOKEN is not set\n" in out
    assert f"     reply:2 (mastodon) failed: {policy}\n" in out
    assert ("     reply:3: the attempt by host-a:42 ended without an outcome (its claim lapsed at "
            f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now - 10))}); the next pass tries again\n") in out
    assert "old: out of" not in out and "host-b:7 ended" not in out
