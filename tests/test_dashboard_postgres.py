"""`monitor ui` on PostgreSQL (the replicas' shared store): the same pages with the same figures as on SQLite for
the same data, feedback clicks recorded once however many dashboards click, a 503 page in words while the server
is down and the pages back without a restart when it returns, and one line at start when it cannot be reached.
Datasette (/data) reads SQLite files only: on PostgreSQL the pages and the startup line say so."""

from __future__ import annotations

import re
import threading
import time
from types import SimpleNamespace

import httpx
import pytest
from starlette.testclient import TestClient

from monitor.config.rules import load_rules
from monitor.config.settings import load_config
from monitor.ops.dashboard import web
from monitor.ops.dashboard.security import CSRF_COOKIE
from monitor.ops.ui import PG_DATA_NOTE, dashboard
from monitor.store.database import Store
from monitor.store.dialect import to_postgres
from tests import dashboard_data
from tests.conftest import write_config
from tests.dashboard_data import Built, build
from tests.fakes.process import MonitorProcess
from tests.fakes.server import free_port
from tests.pgserver import PgServer, fresh_schema_url, run_sql

PASSWORD = "s3cr3t-dash-pw"
# every page the dashboard serves (the strip is on each), with filters that exercise search, brand and facets
PAGES = ["/", "/?period=30d", "/?period=24h&brand=acme", "/feed", "/feed?q=billing", "/feed?q=bill",
         "/feed?brand=globex", "/feed?sentiment=negative&period=30d", "/feed?state=none", "/feed?source=forum",
         "/alerts", "/alerts?brand=acme&period=30d", "/report", "/report?brand=globex", "/report.md",
         "/api/health"]


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test here chooses its stores itself (both, side by side), whatever the suite-wide backend asks."""
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    return "sqlite"


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """The same five days of real pipeline output, built once on SQLite and once on PostgreSQL, at the same `now`."""
    mp = pytest.MonkeyPatch()
    now = time.time()
    mp.setattr(dashboard_data, "time", SimpleNamespace(time=lambda: now))
    try:
        mp.delenv("MONITOR_DATABASE_URL", raising=False)
        sqlite = build(tmp_path_factory.mktemp("sqlite"))
        mp.setenv("MONITOR_DATABASE_URL", fresh_schema_url())
        pg = build(tmp_path_factory.mktemp("pg"))
    finally:
        mp.undo()
    assert pg.db.startswith("postgresql://") and not sqlite.db.startswith("postgresql://")
    return {"sqlite": sqlite, "postgres": pg}


def _client(b: Built) -> TestClient:
    app = dashboard(load_config(b.config), load_rules(b.rules), b.db, with_datasette=False)
    return TestClient(app.app, base_url="http://127.0.0.1")


def _figures(text: str) -> str:
    """A page as its reader sees it, without its header (on PostgreSQL the /data note, checked apart) and CSRF
    tokens."""
    text = re.sub(r'<header class="top">.*?</header>', "", text, flags=re.S)
    text = re.sub(r'name="csrf" value="[^"]*"', "", text)
    text = re.sub(r'"as_of": ?[0-9.]+', "", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(text.split())


@pytest.mark.slow
@pytest.mark.parametrize("path", PAGES)
def test_every_page_shows_the_same_figures_on_postgresql_as_on_sqlite(twins, path, monkeypatch):
    now = time.time()          # both pages read at one instant: a minute boundary between them moved "as of" times
    monkeypatch.setattr(web, "time", SimpleNamespace(time=lambda: now))
    pages = {}
    for name, b in twins.items():
        r = _client(b).get(path)
        assert r.status_code == 200, (name, path, r.text[:500])
        pages[name] = r.text
    assert _figures(pages["postgres"]) == _figures(pages["sqlite"])
    if path.startswith("/feed?q="):
        assert "billing" in pages["postgres"].lower() and "charged me twice" in pages["postgres"]
    if not path.startswith(("/report", "/api")):
        assert PG_DATA_NOTE in pages["postgres"] and 'href="/data/"' not in pages["postgres"]
        assert PG_DATA_NOTE not in pages["sqlite"]


@pytest.mark.slow
def test_regression_monitor_report_failed_on_postgresql_with_a_syntax_error(twins, capsys):
    """`monitor report` on PostgreSQL said `SyntaxError: syntax error at or near ":"` and exited 1 (the figures'
    named parameters reached psycopg untranslated; the weekly report on replicas failed the same way). Now it
    writes the same report as on SQLite."""
    from monitor.cli import main

    out = {}
    for name, b in twins.items():
        assert main(["report", "--config", str(b.config), "--rules", str(b.rules), "--db", b.db, "--format", "md",
                     "--since", "30d"]) == 0, capsys.readouterr().err
        out[name] = re.sub(r"_As of [^_]*_", "", capsys.readouterr().out)
    assert out["postgres"] == out["sqlite"] and "acme" in out["postgres"]


def test_dialect_translates_the_dashboard_s_sqlite_sql():
    """The dashboard's SQL was SQLite's only: named parameters, `json_each(x) j`, instr/json_quote, and a
    CAST AS INTEGER that PostgreSQL rounds where SQLite truncates (a chart's bucket would move)."""
    sql = to_postgres("SELECT j.value FROM mentions m, json_each(m.brands) j WHERE instr(m.brands, json_quote(:brand))"
                      " > 0 AND CAST((m.collected_at - :origin) / :step AS INTEGER) = 1 AND t = ':x' AND y::json IS NULL")
    assert sql == ("SELECT j.value FROM mentions m, json_array_elements_text((m.brands)::json) AS j(value) WHERE "
                   "strpos(m.brands, to_json(CAST(%(brand)s AS TEXT))::text) > 0 AND CAST(TRUNC((m.collected_at - "
                   "%(origin)s) / %(step)s) AS BIGINT) = 1 AND t = ':x' AND y::json IS NULL")


def _click(c: TestClient, mention: int, label: str) -> int:
    assert c.get("/feed", headers={"X-User": "ana"}).status_code == 200
    form = {"mention": str(mention), "label": label, "csrf": c.cookies.get(CSRF_COOKIE) or "", "back": "/feed"}
    return c.post("/feedback", data=form, follow_redirects=False, headers={"X-User": "ana"}).status_code


@pytest.mark.slow
def test_a_feedback_click_lands_once_from_two_dashboards_at_once(tmp_path, monkeypatch):
    """Two dashboards (beside two replicas) on one PostgreSQL, the same clicks at the same instant, twice each: one
    feedback row per label, one not-negative transition of the alert. Regression: `relabel` read "no such row yet"
    in both transactions and both inserted (a trigger holds each insert 0.3 s uncommitted, so the race is sure)."""
    url = fresh_schema_url()
    monkeypatch.setenv("MONITOR_DATABASE_URL", url)
    b = build(tmp_path, days=1)
    run_sql(url, "CREATE FUNCTION slow_feedback() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.3);"
                 " RETURN NEW; END $$; CREATE TRIGGER slow_feedback BEFORE INSERT ON feedback FOR EACH ROW"
                 " EXECUTE FUNCTION slow_feedback()")
    store = Store(b.db, readonly=True)
    try:
        alerted = store.one("SELECT MIN(mention_id) AS m FROM alert_mentions")["m"]
        cfg = load_config(b.config)
        cfg = type(cfg)(**{**cfg.__dict__, "dashboard": cfg.dashboard.model_copy(update={"user_header": "X-User"})})
        boards = [dashboard(cfg, load_rules(b.rules), b.db, with_datasette=False) for _ in range(2)]
        clients = [TestClient(d.app, base_url="http://127.0.0.1") for d in boards for _ in range(2)]
        codes: list[int] = []
        for mention, label in ((b.hostile_id, "neutral"), (alerted, "not_negative")):
            gate = threading.Barrier(len(clients))

            def go(c: TestClient, mention: int = mention, label: str = label, gate: threading.Barrier = gate) -> None:
                gate.wait()
                codes.append(_click(c, mention, label))
            threads = [threading.Thread(target=go, args=(c,)) for c in clients]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
        assert codes == [303] * 8, codes
        fb = store.query("SELECT mention_id, verdict, actor FROM feedback ORDER BY id")
        assert [(f["mention_id"], f["verdict"]) for f in fb if f["mention_id"] == b.hostile_id] == \
            [(b.hostile_id, "relabel:neutral")]
        assert [f["verdict"] for f in fb if f["mention_id"] == alerted] == ["not_negative"]
        alert = store.one("SELECT a.id, a.resolution FROM alerts a JOIN alert_mentions am ON am.alert_id = a.id"
                          " WHERE am.mention_id = ?", (alerted,))
        assert alert["resolution"] == "not_negative"
        events = store.query("SELECT kind FROM alert_events WHERE alert_id = ? AND kind = 'not_negative'",
                             (alert["id"],))
        assert len(events) == 1
    finally:
        store.close()


@pytest.fixture(scope="module")
def own_server():
    """A server of this module's own, so it can be stopped (the session's is shared)."""
    srv = PgServer()
    yield srv
    srv.stop()


@pytest.mark.slow
def test_a_stopped_server_gives_the_503_page_and_the_pages_come_back_without_a_restart(tmp_path, own_server, caplog):
    url = own_server.url.replace("monitor@", f"monitor:{PASSWORD}@")
    Store(url).close()                                   # migrated, as a replica's first start leaves it
    cfg, rules = write_config(tmp_path, sources="[]\n", extra="")
    text = cfg.read_text().replace("storage:\n", "storage:\n  connect_timeout: 2s\n")
    cfg.write_text(text)
    board = dashboard(load_config(cfg), load_rules(rules), url, with_datasette=False)
    c = TestClient(board.app, base_url="http://127.0.0.1")
    try:
        assert c.get("/").status_code == 200
        own_server.pg_ctl("stop", "-m", "fast")
        try:
            down = time.monotonic()
            while time.monotonic() - down < 16:          # its next reconnection attempt: ~31 s after the stop
                for path in ("/", "/feed", "/alerts", "/report"):
                    started = time.monotonic()
                    r = c.get(path)
                    took = time.monotonic() - started
                    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html"), (path, r.text)
                    assert "database cannot be reached" in r.text and "no restart is needed" in r.text
                    assert PASSWORD not in r.text and took < 5, took        # storage.connect_timeout: 2s
                time.sleep(0.5)
        finally:
            own_server.start()
        back = time.monotonic()
        while (r := c.get("/")).status_code != 200 and time.monotonic() - back < 30:
            time.sleep(0.1)
        # the pages are back at once (regression: psycopg_pool's doubled reconnection delay kept them 503 for 13 s
        # after a 23 s outage; now the stores are retired and the next request connects afresh)
        assert r.status_code == 200 and "Mentions" in r.text and time.monotonic() - back < 5, r.text[:300]
        assert c.get("/feed?q=anything").status_code == 200
        said = [r.getMessage() for r in caplog.records if r.name == "monitor.ops.dashboard.status"]
        assert len(said) == 2 and "cannot be reached" in said[0] and "answers again" in said[1], said   # once each
        assert PASSWORD not in " ".join(said)
    finally:
        board.stores.close()


@pytest.mark.slow
def test_cli_serves_the_dashboard_on_postgresql_and_says_data_is_not_served(tmp_path):
    url = fresh_schema_url().replace("monitor@", f"monitor:{PASSWORD}@")
    Store(url).close()
    cfg, rules = write_config(tmp_path, sources="[]\n")
    port = free_port()
    with MonitorProcess(["ui", "--config", str(cfg), "--rules", str(rules), "--db", url, "--port", str(port)],
                        unset=["MONITOR_DATABASE_URL"]) as proc:
        r = proc.get_when_up(f"http://127.0.0.1:{port}/")
        assert r.status_code == 200 and "Mentions" in r.text and PG_DATA_NOTE in r.text
        assert httpx.get(f"http://127.0.0.1:{port}/data/", timeout=5).status_code == 404
        line = proc.stdout.strip()
        assert "/data (Datasette) is not served" in line and "psql" in line and "postgresql://monitor@127.0.0.1" in line
        assert PASSWORD not in line + proc.log()


