"""Routing paused uncounted is said where ops look, and the breaker tells a slow server from poison mentions.

The regressions: (1) when the store was unavailable to the routing pass, or the slow-server breaker tripped, the
daemon logged one WARNING and `monitor status`, `--json` and the dashboard's strip said nothing while the pending
count rose; (2) three poison mentions of one kind with nothing else pending tripped the breaker at every pass and
were never counted. Now the pause is recorded (`routing_pauses`, runtime.pauses) and reported as kind
`routing_paused` until a pass routes again, and a tripped breaker probes the server (`Store.probe`)
before blaming it. A real PostgreSQL: `statement_timeout` on the replica's sessions and a trigger that sleeps past
it on every mention being routed while `slow_server` has a row, else only on a STALL one (the technique of
tests/test_slow_server_breaker.py, whose trigger this is).
"""

from __future__ import annotations

import json
import logging

from monitor.cli import main
from monitor.runtime.failures import ROUTE_BACKOFF_MAX_S, SLOW_SERVER_FAILURES
from tests import test_slow_server_breaker as slow_server
from tests.harness import NEGATIVE, Harness

STALL = f"{NEGATIVE} STALL"
HEALTHY = [f"{NEGATIVE}, order #{i}" for i in range(1, 6)]
h = slow_server.h              # its PostgreSQL with the slow trigger (fixture), reused
_slow = slow_server._slow


def _status(h: Harness, capsys) -> dict:
    capsys.readouterr()
    main(["status", "--config", str(h.cfg), "--json"])
    return json.loads(capsys.readouterr().out)


def _passes(h: Harness, n: int) -> None:
    for _ in range(n):
        h.app.pipeline.process_pending()
        h.clock.advance(ROUTE_BACKOFF_MAX_S)
        with h.app.store.tx() as db:              # CLAIM_TTL_S has passed (the database's clock: by hand)
            db.execute("UPDATE mentions SET claimed_until = NULL")


def test_regression_a_tripped_breaker_was_silent_in_status_now_routing_paused_until_a_pass_routes(h, capsys):
    for text in HEALTHY:
        h.mention(text, process=False)
    _slow(h, True)
    _passes(h, h.app.config.daemon.max_route_attempts + 1)
    rows = h.app.store.query("SELECT route_attempts, route_parked_at FROM mentions")
    assert [(r["route_attempts"], r["route_parked_at"]) for r in rows] == [(0, None)] * 5     # nobody counted
    rep = _status(h, capsys)
    [issue] = [i for i in rep["issues"] if i["kind"] == "routing_paused"]
    assert issue["text"].startswith("routing: paused since ") and "SQLSTATE class 57" in issue["text"]
    assert "a probe of the server failed too" in issue["text"] and "5 mention(s) waiting" in issue["text"]
    assert rep["healthy"] is False and rep["routing"]["paused"][0]["cause"] == "slow_server"
    capsys.readouterr()
    main(["status", "--config", str(h.cfg)])
    assert "routing: PAUSED since" in capsys.readouterr().out
    _slow(h, False)
    assert h.app.pipeline.process_pending() == 5
    rep = _status(h, capsys)
    assert rep["routing"]["paused"] == [] and not [i for i in rep["issues"] if i["kind"] == "routing_paused"]


def test_regression_three_poison_mentions_alone_were_never_counted_now_parked_after_the_attempts(h, capsys, caplog):
    for _ in range(SLOW_SERVER_FAILURES):
        h.mention(STALL, process=False)
    caplog.set_level(logging.WARNING, logger="monitor.runtime.pipeline")
    limit = h.app.config.daemon.max_route_attempts
    _passes(h, limit)
    rows = h.app.store.query("SELECT route_attempts, route_parked_at, route_error FROM mentions")
    assert [r["route_attempts"] for r in rows] == [limit] * SLOW_SERVER_FAILURES
    assert all(r["route_parked_at"] is not None and r["route_error"].startswith("QueryCanceled") for r in rows)
    assert not [r for r in caplog.records if "store is unavailable" in r.getMessage()]
    kinds = [i["kind"] for i in _status(h, capsys)["issues"]]
    assert "routing_parked" in kinds and "routing_paused" not in kinds


def test_the_probe_answers_on_a_working_server_and_times_out_on_a_slow_one(h):
    assert h.app.store.probe() is None
    _slow(h, True)
    down = h.app.store.probe()
    assert down is not None and down.sqlstate == "57014"
    assert h.app.store.one("SELECT COUNT(*) AS n FROM mentions")["n"] == 0      # the stand-in was rolled back


def test_the_probe_is_the_stores_and_leaves_no_row_on_either_store(fresh_db):
    """The probe's rolled-back write into `mentions` is the store's own (one writer per table), on both stores."""
    assert fresh_db.probe() is None
    assert fresh_db.probe() is None            # twice: nothing of the first stayed behind to collide with
    assert fresh_db.one("SELECT COUNT(*) AS n FROM mentions")["n"] == 0
