"""`monitor ui`: Datasette over a snapshot (immutable) or the live file (read-only), with the shipped saved
queries executing against a real database."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from monitor.alerting.lifecycle import transition
from monitor.core.clock import FakeClock
from monitor.core.errors import MonitorError
from monitor.ops.ui import UI, metadata
from monitor.runtime.daemon import App, Paths, run_once
from monitor.store import retention
from tests.conftest import write_config
from tests.fakes.feeds import Feed, Item
from tests.fakes.process import MonitorProcess
from tests.fakes.server import free_port
from tests.timing import Stopwatch

DAY = 86400.0


@pytest.fixture
def db(tmp_path, feed_server, fake_slack, slack_env) -> str:
    """Two days of real pipeline output: alerts (one acknowledged after 30 minutes), and a pruned day."""
    clock = FakeClock(time.time() - 45 * DAY)
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """)
    app = App(Paths(str(cfg), str(rules)), clock=clock)

    # each day's complaints are new stories: the same text again would (rightly) join the still-open alert
    stories = {"old": ("Acme support is terrible", "Rude and useless. Awful.",
                       "Acme refund denied again", "Worst service, I hate it."),
               "new": ("Acme app crashed and lost my files", "Furious, this is a disaster.",
                       "Acme delivery three weeks late", "Still waiting, horrible experience.")}

    def day(prefix: str) -> None:
        t1, b1, t2, b2 = stories[prefix]
        feed_server.feeds["/news.xml"] = Feed([
            Item(f"{prefix}-a", t1, b1, published=clock.now() - 60),
            Item(f"{prefix}-b", t2, b2, published=clock.now() - 60),
            Item(f"{prefix}-c", "I love Acme", "Great blender!", published=clock.now() - 60)])
        run_once(app, delivery_budget_s=10)

    try:
        day("old")                                    # 45 days ago: its unalerted mention gets pruned
        clock.advance(44 * DAY)
        day("new")
        first = app.store.query("SELECT id FROM alerts ORDER BY id DESC LIMIT 1")[0]["id"]
        clock.advance(1800)
        transition(app.store, first, "ack", "jane")
        retention.prune(app.store, 30 * DAY)
        return app.db_path
    finally:
        app.close()


def _get(ui: UI, *paths: str) -> list[Any]:
    async def go() -> list[Any]:
        await ui.startup()
        out = []
        for p in paths:
            r = await ui.ds.client.get(p)
            assert r.status_code == 200, (p, r.text[:500])
            out.append(r.json())
        return out
    return asyncio.run(go())


def test_canned_queries_on_a_snapshot(db):
    ui = UI(db)
    try:
        opened, negative, tta, tables = _get(
            ui, "/monitor/open_alerts.json?_shape=array",
            "/monitor/negative_by_brand_and_day.json?_shape=array&days=60",
            "/monitor/time_to_acknowledge_by_owner.json?_shape=array",
            "/monitor.json")
    finally:
        ui.close()
    # two negative mentions a day, each its own alert routed to comms-oncall; one acknowledged
    assert len(opened) == 4 and {a["owners"] for a in opened} == {"comms-oncall"}
    assert {a["state"] for a in opened} == {"open", "acknowledged"}
    days = {(r["day"], r["brand"]): r for r in negative}
    assert len(days) == 2 and all(r["brand"] == "acme" for r in negative)
    assert sorted((r["mentions"], r["negative"]) for r in negative) == [(3, 2), (3, 2)]   # live + pruned counts
    assert [r["owner"] for r in tta] == ["comms-oncall"]
    assert tta[0]["alerts"] == 2 and tta[0]["acknowledged"] == 1 and tta[0]["avg_minutes_to_ack"] == 30.0
    assert tta[0]["responded"] == 0 and tta[0]["avg_minutes_to_first_response"] is None
    names = {t["name"]: t for t in tables["tables"]}
    assert names["maintenance"]["hidden"] and not names["alerts"]["hidden"]


def test_query_parameters_filter(db):
    ui = UI(db)
    try:
        (none,) = _get(ui, "/monitor/negative_by_brand_and_day.json?_shape=array&brand=globex&days=60")
        (recent,) = _get(ui, "/monitor/negative_by_brand_and_day.json?_shape=array&days=7")
    finally:
        ui.close()
    assert none == [] and len(recent) == 1


def test_snapshot_is_immutable_and_live_sees_new_writes(db):
    import sqlite3

    snap, live = UI(db), UI(db, live=True)
    try:
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE alerts SET state = 'resolved'")
        (a,) = _get(snap, "/monitor/open_alerts.json?_shape=array")
        (b,) = _get(live, "/monitor/open_alerts.json?_shape=array")
        assert len(a) == 4 and b == []
        for ui in (snap, live):
            r = asyncio.run(ui.ds.client.get("/monitor.json?sql=DELETE+FROM+alerts"))
            assert r.status_code == 400 and "must be a SELECT" in r.text
        with pytest.raises(AssertionError):      # Datasette refuses writes to an immutable database outright
            asyncio.run(snap.ds.get_database("monitor").execute_write("DELETE FROM alerts"))
    finally:
        snap.close()
        live.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 4


def test_metadata_ships_with_the_package():
    meta = metadata("prod")
    assert set(meta["databases"]) == {"prod"}
    assert {"open_alerts", "negative_by_brand_and_day", "time_to_acknowledge_by_owner"} <= set(
        meta["databases"]["prod"]["queries"])


def test_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(MonitorError, match="no database at"):
        UI(str(tmp_path / "nope.db"))


def test_cli_serves_on_loopback_and_stops(db, tmp_path):
    port = free_port()
    cfg, _rules = write_config(tmp_path, sources="[]\n")
    with MonitorProcess(["ui", "--config", str(cfg), "--db", db, "--port", str(port)]) as proc:
        r = proc.get_when_up(f"http://127.0.0.1:{port}/data/monitor/open_alerts.json?_shape=array")
        assert r.status_code == 200 and len(r.json()) == 4          # Datasette for ops, live, under /data
        assert f"http://127.0.0.1:{port}/ and /data" in proc.stdout
        assert "Mentions" in httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text   # the dashboard at /
    # leaving the block kills the server: it never outlives the test


def test_regression_ui_on_a_postgresql_url_said_no_database_and_echoed_the_url(tmp_path, capsys, monkeypatch):
    """`monitor ui --db postgresql://…` said "no database at <the URL>", password included, and "run `monitor run`
    first". Then it refused PostgreSQL in one line; now it serves it (tests/test_dashboard_postgres.py), and a
    server that cannot be reached (a closed 127.0.0.1 port) fails the start as every one-shot command does: one
    line naming the server without its password and libpq's reason, exit 1, within storage.connect_timeout."""
    from monitor.cli import main

    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    cfg, rules = write_config(tmp_path, sources="[]\n")
    port = free_port()
    url = f"postgresql://monitor:s3cretpw@127.0.0.1:{port}/monitor"
    with Stopwatch() as sw:
        assert main(["ui", "--config", str(cfg), "--rules", str(rules), "--db", url]) == 1
    sw.assert_within(5.0, 3.0, "refusing a closed port")    # storage.connect_timeout, slack scaled by load
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"monitor: cannot connect to PostgreSQL at postgresql://monitor@127.0.0.1:{port}/"), err
    assert "Connection refused" in err and "s3cretpw" not in err and "no database at" not in err
    # without monitor.yaml `monitor ui` does not start at all (exit 2, the file named), before any connection
    assert main(["ui", "--config", str(tmp_path / "none.yaml"), "--db", url]) == 2
    err = capsys.readouterr().err
    assert "none.yaml: file not found" in err and "s3cretpw" not in err
