"""Routing stalled, said by `monitor status` from the store alone (kind `routing_stalled`, `ops.stall`).

The regression ("a stalled routing nothing could record"): `routing_paused` is written by the daemon, so while
the store could not be written at all (here: SQLite locked by another process for the whole pass) no pause was
recorded, the mentions waited, and `monitor status` reported nothing. The check reads only what the tables
hold: routable mentions whose oldest waited over ROUTING_STALL_S, nothing routed meanwhile, a daemon meant to
run (`replicas`), no `routing_paused` row to explain it.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from monitor.config.settings import load_config
from monitor.ops import health
from monitor.ops.stall import ROUTING_STALL_S
from monitor.store import database
from monitor.store.database import Store
from tests.conftest import RULES, write_config
from tests.harness import NEGATIVE, Harness
from tests.health_fixtures import healthy_store

SOURCES = """\
    - id: news
      kind: rss
      url: http://127.0.0.1:9/a.xml
      every: 5m
"""


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    return "sqlite"


def _kinds(rep: dict) -> list[str]:
    return [i["kind"] for i in rep["issues"]]


def test_regression_sqlite_locked_for_the_whole_pass_was_reported_by_nothing(tmp_path, backend, monkeypatch):
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 0.3)       # the Store's busy timeout, shortened
    h = Harness(tmp_path, RULES)
    try:
        h.app.coord.register("cfg", "test")          # the daemon registers at start (`Daemon.run`)
        h.app.coord.halt()                           # ... and its heartbeat cannot write either
        h.mention(NEGATIVE, process=False)
        h.clock.advance(ROUTING_STALL_S + 60)
        blocker = sqlite3.connect(h.app.db_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")           # another process holds the write lock all along
        try:
            assert h.app.pipeline.process_pending() == 0
            assert h.app.store.query("SELECT * FROM routing_pauses") == []    # the pause could not be recorded
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        config = load_config(h.cfg)
        rep = health.report(config, h.app.store, h.clock.now())
        assert [k for k in _kinds(rep) if k.startswith("routing")] == ["routing_stalled"], rep["problems"]
        stalled = rep["routing"]["stalled"]
        assert stalled["waiting"] == 1 and stalled["oldest_age_s"] > ROUTING_STALL_S and stalled["last_routed"] is None
        assert any(p.startswith("routing: stalled: 1 mention(s) due for routing") for p in rep["problems"])
        assert h.app.pipeline.process_pending() == 1                 # the lock gone: the pass routes, the stall ends
        assert "routing_stalled" not in _kinds(health.report(config, h.app.store, h.clock.now()))
    finally:
        h.close()


def _site(tmp_path, *sql: str) -> tuple[object, Store, float]:
    cfg, _rules = write_config(tmp_path, sources=SOURCES, slack_mode="bot")
    now = time.time()
    store = healthy_store(tmp_path / "monitor.db", now, {"news": "rss"})
    with store.tx() as db:
        for s in sql:
            db.execute(s, {"now": now, "host": socket.gethostname(), "pid": os.getpid()})
    return load_config(cfg), store, now


WAITING = ("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at) VALUES"
           " ('news', 'rss', 'w1', 'acme', :now - 3600)")
RUNNING_HERE = ("INSERT INTO replicas (id, hostname, pid, started_at, seen_at) VALUES"
                " ('here', :host, :pid, :now - 7200, :now - 3000)")      # alive, its heartbeat stopped writing


@pytest.mark.parametrize("case, sql, expected", [
    ("a daemon of this host, alive, heartbeat stale", [WAITING, RUNNING_HERE], ["routing_stalled"]),
    ("a replica of another host not seen since (cut off)", [WAITING, "INSERT INTO replicas (id, hostname, pid,"
     " started_at, seen_at) VALUES ('far', 'elsewhere.invalid', 1, :now - 7200, :now - 3000)"], ["routing_stalled"]),
    ("paused already says it", [WAITING, RUNNING_HERE, "INSERT INTO routing_pauses (replica, since, seen_at, cause,"
     " reason, waiting) VALUES ('local', :now - 600, :now, 'outage', 'database is locked', 1)"], ["routing_paused"]),
    ("a backlog being routed", [WAITING, RUNNING_HERE, "INSERT INTO mentions (source_id, source_kind, external_id,"
     " text, collected_at, processed_at) VALUES ('news', 'rss', 'r1', 'acme', :now - 60, :now - 30)"], []),
    ("waiting less than the threshold", [WAITING.replace(":now - 3600", ":now - 60"), RUNNING_HERE], []),
    ("in its backoff, not due", [WAITING.replace("collected_at)", "collected_at, route_attempts, route_retry_at)")
                                 .replace(":now - 3600)", ":now - 3600, 1, :now + 600)"), RUNNING_HERE], []),
    ("stopped cleanly", [WAITING, RUNNING_HERE.replace("seen_at)", "seen_at, stopped_at)")
                         .replace(":now - 3000)", ":now - 3000, :now - 3000)")], []),
])
def test_routing_stalled_is_said_only_when_nothing_else_explains_it(tmp_path, backend, case, sql, expected):
    config, store, now = _site(tmp_path, *sql)
    try:
        assert _kinds(health.report(config, store, now)) == expected, case
    finally:
        store.close()


def test_a_daemon_that_is_not_running_is_said_by_its_overdue_sources_not_as_a_stall(tmp_path, backend):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = RUNNING_HERE.replace(":pid", dead.stdout.strip())           # killed: its row left, its pid gone
    config, store, now = _site(tmp_path, WAITING, gone)
    try:
        with store.tx() as db:
            db.execute("UPDATE sources SET last_attempt = ?, last_success = ?", (now - 7200, now - 7200))
        assert _kinds(health.report(config, store, now)) == ["source_overdue"]
    finally:
        store.close()
