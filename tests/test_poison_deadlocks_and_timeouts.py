"""Poison mentions on PostgreSQL: a deadlock (40P01), a serialization failure (40001) or a statement timeout
(57014) raised by a mention's own routing counts against that mention (backoff, then parked), while connection
and server failures still count against none (tests/test_store_unavailable.py).

The regression ("a mention whose routing always deadlocks or times out is retried forever"): those SQLSTATEs are
StorageUnavailable, which counted nothing against the mention, so the pass stopped at it on every pass, forever,
and nothing behind it in that pass was routed. Here a real server raises them: `statement_timeout` on the
replica's sessions and a trigger that sleeps past it on a marked mention, and a trigger raising SQLSTATE 40P01.
"""

from __future__ import annotations

import logging

import pytest

from monitor.core.errors import StorageUnavailable
from monitor.runtime.pipeline import ROUTE_BACKOFF_MAX_S, counts_against_mention
from tests.conftest import RULES
from tests.harness import NEGATIVE, Harness

STALL = f"{NEGATIVE} STALL"
DEADLOCK = f"{NEGATIVE} DEADLOCK"
OK = [f"{NEGATIVE}, order #{i}" for i in (1, 2)]
TRIGGER = """
CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.processed_at IS NOT NULL AND NEW.text LIKE '%STALL%' THEN
        PERFORM pg_sleep(10);                          -- past statement_timeout: 57014
    END IF;
    IF NEW.processed_at IS NOT NULL AND NEW.text LIKE '%DEADLOCK%' THEN
        RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER poison BEFORE UPDATE ON mentions FOR EACH ROW EXECUTE FUNCTION poison();
"""


@pytest.fixture
def h(tmp_path, monkeypatch):
    from tests.pgserver import run_sql, statement_timeout_url
    url = statement_timeout_url(1000)
    monkeypatch.setenv("MONITOR_DATABASE_URL", url)
    harness = Harness(tmp_path, RULES)
    run_sql(url, TRIGGER)
    yield harness
    harness.close()


def _row(h: Harness, text: str) -> dict:
    row = h.app.store.one("SELECT * FROM mentions WHERE text = ?", (text,))
    assert row is not None
    return row


def _store_down_warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "store is unavailable" in r.getMessage()]


def test_regression_a_statement_timeout_on_one_mention_was_retried_forever(h, caplog):
    for text in (OK[0], STALL, OK[1]):
        h.mention(text, process=False)
    caplog.set_level(logging.WARNING, logger="monitor.runtime.pipeline")
    assert h.app.pipeline.process_pending() == 2                 # the one behind it is routed in the same pass
    row = _row(h, STALL)
    assert (row["processed_at"], row["route_attempts"], row["claimed_until"]) == (None, 1, None)
    assert row["route_error"].startswith("QueryCanceled: ") and "statement timeout" in row["route_error"]
    for attempt in range(2, 6):
        h.clock.advance(ROUTE_BACKOFF_MAX_S)
        h.app.pipeline.process_pending()
        assert _row(h, STALL)["route_attempts"] == attempt
    assert _row(h, STALL)["route_parked_at"] is not None       # parked after daemon.max_route_attempts (5)
    assert all(_row(h, t)["processed_at"] is not None for t in OK)
    assert len([r for r in caplog.records if r.levelno == logging.ERROR and "parked" in r.getMessage()]) == 1
    assert _store_down_warnings(caplog) == []                   # not an outage of the store


def test_a_deadlock_in_a_batch_is_counted_against_its_mention_and_the_batch_commits(h, caplog):
    for text in (OK[0], DEADLOCK, OK[1]):
        h.mention(text, process=False)
    ids = [int(r["id"]) for r in h.app.store.query("SELECT id FROM mentions ORDER BY id")]
    caplog.set_level(logging.WARNING, logger="monitor.runtime.pipeline")
    assert h.app.pipeline.process_batch(ids) == 2
    row = _row(h, DEADLOCK)
    assert (row["processed_at"], row["route_attempts"]) == (None, 1)
    assert row["route_error"].startswith("DeadlockDetected: ")
    assert all(_row(h, t)["processed_at"] is not None for t in OK)
    assert _store_down_warnings(caplog) == []
    h.clock.advance(ROUTE_BACKOFF_MAX_S)
    assert h.app.pipeline.process_pending() == 0 and _row(h, DEADLOCK)["route_attempts"] == 2


@pytest.mark.parametrize(("sqlstate", "counted"), [
    ("40001", True), ("40P01", True), ("57014", True),            # the statement's: counted
    ("08006", False), ("57P01", False), ("25006", False), ("53300", False), (None, False), ("SQLITE_BUSY", False),
])
def test_which_unavailable_errors_count_against_the_mention(sqlstate, counted):
    assert counts_against_mention(StorageUnavailable("x", sqlstate=sqlstate)) is counted
