"""The daemon after a PostgreSQL outage: it routes again within seconds of the server's return, after a short
outage and after one longer than psycopg_pool's `reconnect_timeout`, and says the outage once.

The regression ("a long outage left the daemon waiting on psycopg_pool's backoff"): the pool doubled its delay
between reconnection attempts and gave up after `reconnect_timeout`; a mention pending across a 23 s outage was
routed 8.6 s after the server was back, and across an outage longer than the timeout (5 s here) 18.5 s after.
Real server (`tests/pgserver.py`), stopped and started with `pg_ctl`; the daemon's routing is `process_pending`
every 0.5 s (the daemon calls it after each poll).
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from monitor.store import reconnect
from tests import pgserver
from tests.conftest import RULES
from tests.harness import NEGATIVE, Harness

BACK_WITHIN_S = 4.5     # the 2 s cap between attempts, a pass every 0.5 s, the server's first second


@pytest.fixture
def pg(monkeypatch):
    server = pgserver.server()
    if server is None:
        pytest.skip("$MONITOR_TEST_DATABASE_URL points at a server this test cannot stop")
    monkeypatch.setenv("MONITOR_DATABASE_URL", pgserver.fresh_schema_url())
    yield server
    if not _up(server):
        server.start()


def _up(server: pgserver.PgServer) -> bool:
    try:
        pgserver.run_sql(server.url, "SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - down
        return False


def _routed_after_outage(tmp_path, pg, outage_s: float) -> float:
    """Seconds from the server's return to the pending mention routed (the daemon's loop meanwhile)."""
    h = Harness(tmp_path, RULES)
    try:
        h.mention(NEGATIVE, process=False)
        pg.pg_ctl("stop", "-m", "fast")
        routed: list[float] = []
        stop = threading.Event()

        def routing() -> None:
            while not stop.is_set() and not routed:
                if h.app.pipeline.process_pending():
                    routed.append(time.monotonic())
                stop.wait(0.5)

        thread = threading.Thread(target=routing, daemon=True)
        thread.start()
        time.sleep(outage_s)
        assert not routed
        pg.start()
        back = time.monotonic()
        thread.join(60)
        stop.set()
        assert routed, "not routed within 60 s of the server's return"
        return routed[0] - back
    finally:
        h.close()


def test_after_a_short_outage_the_daemon_routes_within_seconds_of_the_servers_return(tmp_path, pg, caplog):
    caplog.set_level(logging.INFO)
    took = _routed_after_outage(tmp_path, pg, 16.0)
    print(f"16 s outage: routed {took:.1f} s after the server was back")
    assert took < BACK_WITHIN_S, took
    said = [r for r in caplog.records if r.name == "monitor.store.postgres"]
    assert [r.levelname for r in said if "cannot be reached" in r.getMessage()] == ["WARNING"]
    assert [r.levelname for r in said if "reachable again" in r.getMessage()] == ["INFO"]
    assert not [r for r in caplog.records if r.name == "psycopg.pool" and "error connecting" in r.getMessage()]


def test_regression_an_outage_past_reconnect_timeout_left_the_daemon_on_a_given_up_pool(tmp_path, pg, monkeypatch,
                                                                                      caplog):
    monkeypatch.setattr(reconnect, "RECONNECT_TIMEOUT_S", 4.0)
    caplog.set_level(logging.INFO)
    took = _routed_after_outage(tmp_path, pg, 10.0)
    print(f"10 s outage, reconnect_timeout 4 s: routed {took:.1f} s after the server was back")
    assert took < BACK_WITHIN_S, took
    assert any("gave up reconnecting" in r.getMessage() for r in caplog.records)
