"""The 2 s reconnection cap of `monitor.store.reconnect` rests on psycopg_pool's private API (no public setting
gives it: see the module doc). These fail loudly, naming what changed, when a psycopg_pool upgrade changes it,
instead of the cap silently going away (attempts doubling to minutes apart after a long outage)."""

from __future__ import annotations

import logging
import socket
import time

import psycopg_pool

from monitor.store import reconnect


def test_the_private_psycopg_pool_api_the_reconnection_cap_relies_on_is_unchanged():
    problems = reconnect.private_api_problems()
    assert not problems, (f"psycopg_pool {psycopg_pool.__version__} changed the private API that "
                          f"monitor/store/reconnect.py overrides: {'; '.join(problems)}. Adapt ReconnectingPool "
                          "(tests/test_postgres_reconnect.py measures it) or pin psycopg-pool below this release.")


def test_a_changed_private_api_is_one_warning_and_psycopg_pools_own_backoff(monkeypatch, caplog):
    monkeypatch.setattr(reconnect, "private_api_problems", lambda: ["ConnectionPool._connect(self) changed"])
    monkeypatch.setattr(reconnect, "_checked", [])
    with caplog.at_level(logging.WARNING, logger="monitor.store.postgres"):
        assert reconnect._private_api_ok() is False and reconnect._private_api_ok() is False
    said = [r.getMessage() for r in caplog.records if "2 s reconnection cap" in r.getMessage()]
    assert len(said) == 1 and "ConnectionPool._connect(self) changed" in said[0], said


def _refused_url() -> str:
    with socket.socket() as s:                      # a port nothing listens on: every connection is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql://nobody@127.0.0.1:{port}/none?connect_timeout=2"


def test_attempts_against_a_server_that_is_down_are_never_more_than_2s_apart_and_not_logged_each(caplog):
    """What the overrides are for, measured on the installed psycopg_pool: without the cap the gaps go 1, 2, 4 s."""
    attempts: list[float] = []

    class Recording(reconnect.ReconnectingPool):
        def _connect(self, *args, **kwargs):
            attempts.append(time.monotonic())
            return super()._connect(*args, **kwargs)

    pool = Recording(_refused_url(), lambda _p: None, min_size=1, max_size=1, open=False)
    with caplog.at_level(logging.INFO):
        pool.open(wait=False)
        try:
            time.sleep(7.5)
        finally:
            pool.close(timeout=2)
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert len(attempts) >= 5 and max(gaps) < reconnect.RECONNECT_DELAY_MAX_S + 0.5, (
        f"psycopg_pool {psycopg_pool.__version__}: reconnection attempts {[round(g, 2) for g in gaps]} s apart")
    pool_warnings = [r for r in caplog.records if r.name.startswith("psycopg.pool") and r.levelno >= logging.WARNING
                     and "connecting" in r.getMessage()]
    assert pool_warnings == [], "psycopg_pool reworded its per-attempt WARNING: _QuietAttempts no longer drops it"
    outage = [r for r in caplog.records if "PostgreSQL cannot be reached" in r.getMessage()]
    assert len(outage) == 1
