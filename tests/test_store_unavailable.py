"""The store being unavailable is no mention's fault: routing stops for the pass, counts nothing, parks nothing,
says so once at WARNING, and the next pass routes every pending mention exactly once.

The regression ("whole-database hiccups count against mentions"): `process_pending` counted any failure of
`process` against the mention (`route_attempts += 1`, parked after `daemon.max_route_attempts`). A SQLite lock
that outlived the busy timeout, or a PostgreSQL connection killed mid-pass, failed the mention's transaction,
and the failure was then written in a fresh transaction (the lock gone by then, a new pooled connection): good
mentions were counted, and after a few such hiccups parked.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

import psycopg
import pytest

from monitor.analyse.analyzer import Analyzer
from monitor.runtime import pipeline as pipeline_module
from monitor.runtime.pipeline import ROUTE_BACKOFF_MAX_S
from monitor.store import database
from tests.conftest import RULES
from tests.harness import NEGATIVE, Harness

BUSY_S = 0.3
TEXTS = [f"{NEGATIVE}, order #{i}" for i in range(1, 4)]


@pytest.fixture
def h(tmp_path, backend, monkeypatch):
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", BUSY_S)     # the Store's busy timeout, shortened
    harness = Harness(tmp_path, RULES)
    yield harness
    harness.close()


def _rows(h: Harness) -> list[dict]:
    return h.app.store.query("SELECT id, text, processed_at, route_attempts, route_error, route_parked_at,"
                             " claimed_until FROM mentions ORDER BY id")


def _routed_once_each(h: Harness) -> None:
    rows = _rows(h)
    assert [r["text"] for r in rows] == TEXTS and all(r["processed_at"] is not None for r in rows)
    assert all(r["route_attempts"] == 0 and r["route_parked_at"] is None and r["route_error"] is None for r in rows)
    links = h.app.store.query("SELECT mention_id, COUNT(*) AS n FROM alert_mentions GROUP BY mention_id")
    assert sorted((r["mention_id"], r["n"]) for r in links) == [(r["id"], 1) for r in rows]


def _unavailable_warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and "store is unavailable" in r.getMessage()]


def _blocker(h: Harness) -> sqlite3.Connection:
    """Another process's connection (`monitor ack`, a backup) holding SQLite's write lock."""
    conn = sqlite3.connect(h.app.db_path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_regression_a_sqlite_lock_past_the_busy_timeout_counted_against_the_mention(h, backend, monkeypatch, caplog):
    if backend != "sqlite":
        pytest.skip("SQLite's busy timeout; PostgreSQL's lost connection is the next test")
    for text in TEXTS:
        h.mention(text, process=False)
    real = Analyzer.analyze
    held: list[threading.Timer] = []

    def analyze(self, m, *a, **kw):
        if m.text == TEXTS[1] and not held:    # another process writes for longer than the busy timeout,
            conn = _blocker(h)                 # and lets go before the failure could be counted
            held.append(threading.Timer(BUSY_S * 1.5, lambda: (conn.execute("ROLLBACK"), conn.close())))
            held[0].start()
        return real(self, m, *a, **kw)

    monkeypatch.setattr(Analyzer, "analyze", analyze)
    caplog.set_level(logging.DEBUG, logger="monitor.runtime.pipeline")
    assert h.app.pipeline.process_pending() == 1                  # the first one; then the store was locked
    held[0].join()
    rows = _rows(h)
    assert rows[0]["processed_at"] is not None
    assert [(r["processed_at"], r["route_attempts"], r["route_parked_at"], r["route_error"]) for r in rows[1:]] == [
        (None, 0, None, None)] * 2                                 # counted 1 against the second mention before
    warned = _unavailable_warnings(caplog)
    assert len(warned) == 1 and "database is locked" in warned[0].getMessage()
    assert "pending mentions wait" in warned[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    assert h.app.pipeline.process_pending() == 2                  # the next pass, at once: no backoff to wait
    _routed_once_each(h)
    assert any("available again" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)


def test_a_sqlite_database_locked_over_many_passes_parks_nothing_and_warns_once(h, backend, caplog):
    if backend != "sqlite":
        pytest.skip("SQLite's busy timeout")
    for text in TEXTS:
        h.mention(text, process=False)
    ids = [r["id"] for r in _rows(h)]
    caplog.set_level(logging.DEBUG, logger="monitor.runtime.pipeline")
    conn = _blocker(h)
    try:
        limit = h.app.config.daemon.max_route_attempts
        for _ in range(limit + 1):                                 # more passes than it takes to park a mention
            assert h.app.pipeline.process_pending() == 0
            h.clock.advance(ROUTE_BACKOFF_MAX_S)
        assert h.app.pipeline.process_batch(ids) == 0              # the firehose path: the same
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert all((r["route_attempts"], r["route_parked_at"]) == (0, None) for r in _rows(h))
    assert len(_unavailable_warnings(caplog)) == 1                # once per outage, not once per pass
    assert h.app.pipeline.process_pending() == 3
    _routed_once_each(h)


def test_regression_a_postgres_connection_killed_mid_pass_counted_against_the_mention(h, backend, monkeypatch, caplog):
    if backend == "sqlite":
        pytest.skip("a PostgreSQL connection killed by pg_terminate_backend")
    from tests.pgserver import base_url
    for text in TEXTS:
        h.mention(text, process=False)
    real = pipeline_module.assign
    killed: list[int] = []

    def assign(db, now, m, *a, **kw):          # inside the second mention's routing transaction
        if m.text == TEXTS[1] and not killed:
            pid = db.execute("SELECT pg_backend_pid()").fetchone()[0]
            with psycopg.connect(base_url(), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            killed.append(pid)
        return real(db, now, m, *a, **kw)

    monkeypatch.setattr(pipeline_module, "assign", assign)
    caplog.set_level(logging.DEBUG, logger="monitor.runtime.pipeline")
    assert h.app.pipeline.process_pending() == 1
    assert killed
    rows = _rows(h)
    assert rows[0]["processed_at"] is not None
    assert [(r["processed_at"], r["route_attempts"], r["route_parked_at"]) for r in rows[1:]] == [(None, 0, None)] * 2
    assert all(r["claimed_until"] is None for r in rows[1:])       # claims let go: no 60 s wait for the next pass
    assert len(_unavailable_warnings(caplog)) == 1

    assert h.app.pipeline.process_pending() == 2
    _routed_once_each(h)
