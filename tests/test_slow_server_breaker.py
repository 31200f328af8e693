"""A server-wide slowdown is the store's trouble, not every mention's (pipeline's `PassBreaker`).

The regression ("a server-wide slowdown parks healthy mentions"): since statement timeouts (57014), deadlocks
and serialization failures count against the mention being routed, a PostgreSQL that was slow as a whole made
every mention a pass touched time out, each was counted, and after `daemon.max_route_attempts` passes every
healthy mention was parked. Now, when the first SLOW_SERVER_FAILURES mentions of a pass all fail alike and none
is routed, the pass stops uncounted (a WARNING, once), and a single poison mention among healthy ones is still
counted and parked. A real server: `statement_timeout` on the replica's sessions, and a trigger that sleeps
past it on every mention while the table `slow_server` has a row (the whole server slow), else only on a
marked one (tests/test_poison_deadlocks_and_timeouts.py's technique).
"""

from __future__ import annotations

import logging
import os

import psycopg
import pytest

from monitor.runtime.pipeline import ROUTE_BACKOFF_MAX_S, SLOW_SERVER_FAILURES, PassBreaker
from tests.conftest import RULES
from tests.harness import NEGATIVE, Harness

STALL = f"{NEGATIVE} STALL"
HEALTHY = [f"{NEGATIVE}, order #{i}" for i in range(1, 6)]
TRIGGER = """
CREATE TABLE slow_server (on_since integer);
CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.processed_at IS NOT NULL AND (NEW.text LIKE '%STALL%' OR EXISTS (SELECT 1 FROM slow_server)) THEN
        PERFORM pg_sleep(10);                          -- past statement_timeout: 57014
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER slow BEFORE UPDATE ON mentions FOR EACH ROW EXECUTE FUNCTION slow();
"""


@pytest.fixture
def h(tmp_path, monkeypatch):
    from tests.pgserver import run_sql, statement_timeout_url
    url = statement_timeout_url(300)
    monkeypatch.setenv("MONITOR_DATABASE_URL", url)
    harness = Harness(tmp_path, RULES)
    run_sql(url, TRIGGER)
    yield harness
    harness.close()


def _slow(h: Harness, on: bool) -> None:
    with psycopg.connect(os.environ["MONITOR_DATABASE_URL"], autocommit=True) as conn:
        conn.execute("DELETE FROM slow_server")
        if on:
            conn.execute("INSERT INTO slow_server VALUES (1)")


def _rows(h: Harness) -> list[dict]:
    return h.app.store.query("SELECT id, text, processed_at, route_attempts, route_parked_at, claimed_until"
                             " FROM mentions ORDER BY id")


def _lapse_claims(h: Harness) -> None:
    """CLAIM_TTL_S has passed (PostgreSQL's own clock drives claims: made to lapse by hand)."""
    with h.app.store.tx() as db:
        db.execute("UPDATE mentions SET claimed_until = NULL")


def _store_down(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and "store is unavailable" in r.getMessage()]


def test_regression_a_server_wide_slowdown_parked_every_healthy_mention(h, caplog):
    for text in HEALTHY:
        h.mention(text, process=False)
    _slow(h, True)
    caplog.set_level(logging.DEBUG, logger="monitor.runtime.pipeline")
    limit = h.app.config.daemon.max_route_attempts
    for _ in range(limit + 1):                  # more passes than it took to park them all
        assert h.app.pipeline.process_pending() == 0
        h.clock.advance(ROUTE_BACKOFF_MAX_S)
        _lapse_claims(h)
    rows = _rows(h)
    assert [(r["route_attempts"], r["route_parked_at"], r["processed_at"]) for r in rows] == [(0, None, None)] * 5
    warned = _store_down(caplog)
    assert len(warned) == 1 and "SQLSTATE class 57" in warned[0].getMessage()     # once for the slowdown
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    timeouts = [r for r in caplog.records if "routing mention" in r.getMessage()]
    assert timeouts == []                                                          # none counted, none logged
    _slow(h, False)                             # the server recovers: every mention routed once, none counted
    assert h.app.pipeline.process_pending() == 5
    assert all(r["processed_at"] is not None and r["route_attempts"] == 0 for r in _rows(h))
    assert any("available again" in r.getMessage() for r in caplog.records)


def test_the_first_pass_of_a_slowdown_tries_three_then_stops_and_the_next_pass_goes_on_behind_them(h, caplog):
    for text in HEALTHY:
        h.mention(text, process=False)
    _slow(h, True)
    caplog.set_level(logging.WARNING, logger="monitor.runtime.pipeline")
    assert h.app.pipeline.process_pending() == 0
    rows = _rows(h)
    claimed = [r["claimed_until"] is not None for r in rows]
    assert claimed == [True] * SLOW_SERVER_FAILURES + [False] * (5 - SLOW_SERVER_FAILURES)   # tried: kept claims
    _slow(h, False)
    assert h.app.pipeline.process_pending() == 5        # the two behind first, then the three suspects again
    assert all(r["processed_at"] is not None and r["route_attempts"] == 0 for r in _rows(h))


def test_one_poison_mention_among_healthy_ones_still_counts_and_parks(h, caplog):
    """The poison one first in the queue: held, then tried again once a healthy one is routed, and counted."""
    h.mention(STALL, process=False)
    for text in HEALTHY[:2]:
        h.mention(text, process=False)
    caplog.set_level(logging.WARNING, logger="monitor.runtime.pipeline")
    assert h.app.pipeline.process_pending() == 2
    limit = h.app.config.daemon.max_route_attempts
    for attempt in range(2, limit + 1):         # then alone in the queue: fewer than the breaker needs, counted
        h.clock.advance(ROUTE_BACKOFF_MAX_S)
        h.app.pipeline.process_pending()
        assert h.app.store.one("SELECT * FROM mentions WHERE text = ?", (STALL,))["route_attempts"] == attempt
    row = h.app.store.one("SELECT * FROM mentions WHERE text = ?", (STALL,))
    assert row["route_attempts"] == limit and row["route_parked_at"] is not None
    assert row["route_error"].startswith("QueryCanceled: ")
    assert _store_down(caplog) == []


def test_then_only_one_mention_times_out_after_the_slowdown(h, caplog):
    """Every mention timed out (the breaker tripped), then the server recovers except for one poison mention:
    the healthy ones are routed, the poison one is counted."""
    for text in (HEALTHY[0], STALL, HEALTHY[1], HEALTHY[2]):
        h.mention(text, process=False)
    _slow(h, True)
    caplog.set_level(logging.WARNING, logger="monitor.runtime.pipeline")
    assert h.app.pipeline.process_pending() == 0
    assert all(r["route_attempts"] == 0 for r in _rows(h))
    _slow(h, False)
    _lapse_claims(h)
    assert h.app.pipeline.process_pending() == 3
    row = h.app.store.one("SELECT * FROM mentions WHERE text = ?", (STALL,))
    assert (row["processed_at"], row["route_attempts"]) == (None, 1)
    assert len(_store_down(caplog)) == 1


def test_a_slowdown_in_a_firehose_batch_rolls_it_back_uncounted(h, caplog):
    for text in HEALTHY:
        h.mention(text, process=False)
    ids = [int(r["id"]) for r in _rows(h)]
    _slow(h, True)
    caplog.set_level(logging.WARNING, logger="monitor.runtime.pipeline")
    assert h.app.pipeline.process_batch(ids) == 0
    assert all(r["route_attempts"] == 0 and r["processed_at"] is None for r in _rows(h))
    assert len(_store_down(caplog)) == 1
    _slow(h, False)
    assert h.app.pipeline.process_batch(ids) == 5


def test_the_breaker_needs_failures_alike():
    from monitor.core.errors import StorageUnavailable

    def fail(state: str) -> StorageUnavailable:
        return StorageUnavailable("x", sqlstate=state)

    b = PassBreaker()
    assert b.failed({"id": 1}, fail("40P01")) == [] and b.failed({"id": 2}, fail("40001")) == []   # class 40 twice
    assert b.failed({"id": 3}, fail("40P01")) is None                                             # a third: trips
    b = PassBreaker()
    assert b.failed({"id": 1}, fail("57014")) == []
    assert [r["id"] for r, _e in b.failed({"id": 2}, fail("40P01")) or []] == [1, 2]   # not alike: counted
    b = PassBreaker()
    assert [r["id"] for r, _e in b.failed({"id": 1}, ValueError("scorer bug")) or []] == [1]   # its own: counted
    assert b.held == [] and b.finished() == []
