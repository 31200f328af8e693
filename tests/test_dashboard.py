"""The dashboard's server side and the weekly report: access and CSRF checks, FTS5 search kept by triggers,
the report command, and the weekly run posting through files_upload_v2 exactly once (fake Slack)."""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from monitor.config.rules import load_rules
from monitor.config.settings import load_config
from monitor.core.errors import ConfigValidationError
from monitor.ops.dashboard import feed as feedmod
from monitor.ops.dashboard import schedule
from monitor.ops.dashboard.figures import Window, headline
from monitor.ops.dashboard.security import CSRF_COOKIE
from monitor.ops.ui import dashboard
from monitor.store.database import Store
from tests.dashboard_data import DAY, HOSTILE, Built, build
from tests.fakes.slack import TOKEN, FakeSlack


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> str:
    """These tests run on SQLite alone (FTS5 and its triggers, file connections), whatever the suite-wide backend
    parametrisation asks for; the dashboard on PostgreSQL is tests/test_dashboard_postgres.py."""
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    return "sqlite"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("dash"))


def _client(b: Built, **dash: str) -> TestClient:
    cfg = load_config(b.config)
    if dash:
        cfg = type(cfg)(**{**cfg.__dict__, "dashboard": cfg.dashboard.model_copy(update=dash)})
    return TestClient(dashboard(cfg, load_rules(b.rules), b.db, with_datasette=False).app, base_url="http://127.0.0.1")


def test_headline_figures_are_computed_from_the_database(built):
    store = Store(built.db, readonly=True)
    try:
        w = Window(built.now - 7 * DAY, built.now + 1, "UTC")
        h = headline(store, w)
        rows = store.query("SELECT negative, reach FROM mentions WHERE status IN ('matched','routed')")
        alerts = store.query("SELECT * FROM alerts")
    finally:
        store.close()
    assert h.mentions == len(rows) and h.negative == sum(r["negative"] for r in rows)
    assert h.reach == sum(r["reach"] or 0 for r in rows)
    assert h.open_alerts == sum(a["state"] != "resolved" for a in alerts)
    assert h.tta == statistics.median(a["acked_at"] - a["created_at"] for a in alerts if a["acked_at"])


def test_search_is_fts5_and_never_breaks_on_syntax(built):
    store = Store(built.db, readonly=True)
    try:
        w = Window(built.now - 7 * DAY, built.now + 1, "UTC")
        rows, _ = feedmod.feed(store, w, feedmod.Filters(q="billing"))
        assert rows and all("billing" in r.text.lower() for r in rows)
        for hostile in ('"', 'NEAR(a b', "*", "-acme", "a OR", "') DROP TABLE mentions; --"):
            feedmod.feed(store, w, feedmod.Filters(q=hostile))            # no FTS5 syntax error
        rows, _ = feedmod.feed(store, w, feedmod.Filters(q="bill"))       # the last word is a prefix
        assert rows
    finally:
        store.close()


def test_fts_index_follows_inserts_and_deletes(fresh_db):
    with fresh_db.tx() as db:
        db.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at)"
                   " VALUES ('s', 'rss', 'x', 'the parcel never arrived', 1)")
    hit = "SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH 'parcel'"
    assert len(fresh_db.query(hit)) == 1
    with fresh_db.tx() as db:
        db.execute("DELETE FROM mentions")
    assert fresh_db.query(hit) == []


def test_writes_need_the_csrf_token_and_a_same_origin(built):
    c = _client(built)
    page = c.get("/feed")
    assert page.status_code == 200 and page.headers["content-security-policy"].startswith("default-src 'none'")
    token = c.cookies.get(CSRF_COOKIE)
    assert token and f'name="csrf" value="{token}"' in page.text
    form = {"mention": str(built.hostile_id), "label": "neutral", "back": "/feed"}
    assert c.post("/feedback", data=form).status_code == 403                        # no token in the form
    assert c.post("/feedback", data={**form, "csrf": "guess"}).status_code == 403
    assert c.post("/feedback", data={**form, "csrf": token},
                  headers={"Origin": "https://evil.example"}).status_code == 403
    r = c.post("/feedback", data={**form, "csrf": token, "back": "https://evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/feed"               # no open redirect
    store = Store(built.db, readonly=True)
    try:
        fb = store.query("SELECT verdict, actor FROM feedback WHERE mention_id = ?", (built.hostile_id,))
    finally:
        store.close()
    assert [f["verdict"] for f in fb] == ["relabel:neutral"] and fb[0]["actor"].startswith("ui:")


def test_token_and_proxy_header_guard_every_page(built, monkeypatch):
    monkeypatch.setenv("DASH_TOKEN", "s3cret-token")
    c = _client(built, token_env="DASH_TOKEN")
    assert c.get("/feed").status_code == 401
    assert c.get("/", headers={"Accept": "text/html"}, follow_redirects=False).headers["location"].startswith("/login")
    assert c.post("/login", data={"token": "wrong", "next": "/"}).status_code == 401
    assert c.post("/login", data={"token": "s3cret-token", "next": "/feed"}, follow_redirects=False).status_code == 303
    assert c.get("/feed").status_code == 200
    assert c.get("/feed", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    p = _client(built, user_header="X-Forwarded-User")
    assert p.get("/feed").status_code == 403
    assert p.get("/feed", headers={"X-Forwarded-User": "ana"}).status_code == 200
    token = p.cookies.get(CSRF_COOKIE)
    r = p.post("/feedback", data={"mention": str(built.hostile_id), "label": "positive", "csrf": token},
               headers={"X-Forwarded-User": "ana"}, follow_redirects=False)
    assert r.status_code == 303
    store = Store(built.db, readonly=True)
    try:
        fb = store.one("SELECT actor FROM feedback WHERE mention_id = ? AND verdict = 'relabel:positive'",
                       (built.hostile_id,))
    finally:
        store.close()
    assert fb == {"actor": "ui:ana"}                  # the proxy's user is who clicked


def test_collected_strings_are_escaped_in_the_html(built):
    text = _client(built).get("/feed", params={"q": "mallory"}).text
    assert "<script>window.__pwned" not in text and "&lt;script&gt;window.__pwned" in text
    assert 'onerror="window' not in text and "&lt;b&gt;mallory&lt;/b&gt;" in text
    assert 'href="javascript:' not in text


def test_report_command_formats_and_bad_arguments(built, tmp_path, capsys):
    from monitor.cli import main

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        try:
            code = main(["report", "--config", str(built.config), "--rules", str(built.rules), *args])
        except SystemExit as exc:               # argparse: a bad argument
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return subprocess.CompletedProcess([], code, out.out, out.err)

    md = run("--format", "md")
    assert md.returncode == 0 and "**Mentions**" in md.stdout and "SLA breaches" in md.stdout
    out = tmp_path / "r.png"
    png = run("--format", "png", "--brand", "acme", "--output", str(out))
    assert png.returncode == 0 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = run("--since", "30d")
    assert html.returncode == 0 and "<svg" in html.stdout and "&lt;script&gt;" not in html.stdout.split("<main>")[0]
    bad = run("--since", "soon")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    [line] = bad.stderr.strip().splitlines()          # one line: the CLI's usage-error format (see test_cli.py)
    assert 'argument --since: bad duration "soon"' in line
    nobrand = run("--brand", "initech")
    assert nobrand.returncode == 2 and "initech" in nobrand.stderr


@pytest.mark.parametrize("channel", ["'#comms'", "C1", "c0123abcd", "X0123ABCD"])
def test_report_slack_channel_must_be_an_id(tmp_path, channel):
    """Slack's pattern (^[CGDZ][A-Z0-9]{8,}$, recorded in python-slack-sdk #1426): caught at load, not at Monday's
    upload (regression: "C1" passed the check and every week's share was refused)."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"brands:\n  acme: {{query: acme}}\nreport:\n  slack_channel: {channel}\n")
    with pytest.raises(ConfigValidationError, match="channel ID"):
        load_config(cfg)


def test_weekly_report_is_posted_once_and_written_to_the_folder(built, tmp_path, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    with FakeSlack() as slack:
        base = load_config(built.config)
        cfg = type(base)(**{**base.__dict__,
                            "slack": base.slack.model_copy(update={"api_url": slack.api_url}),
                            "report": _report_cfg(tmp_path)})
        # copy: the module's database is shared with other tests
        db = tmp_path / "w.db"
        src = Store(built.db)
        src.db.conn.execute("VACUUM INTO ?", (str(db),))
        src.close()
        store = Store(db)
        try:
            slot = schedule.last_slot(built.now, "monday", "09:00", "UTC")
            slack.faults.append(__import__("tests.fakes.slack", fromlist=["Fault"]).Fault(500))
            first = schedule.run_weekly(store, cfg, slot + 60)
            assert first is not None and "slack failed" in first and "html" in first
            row = schedule.status(store)
            assert row is not None and row["attempts"] == 1 and row["posted_at"] is None and row["html_path"]
            from monitor.ops import health
            rep = health.report(cfg, store, slot + 60)                         # said in `monitor status`
            assert any(p.startswith(f"weekly report {row['period']}: not posted") for p in rep["problems"])
            second = schedule.run_weekly(store, cfg, slot + 400)            # the retry
            assert second is not None and second.startswith("slack F")
            assert schedule.run_weekly(store, cfg, slot + 700) is None         # nothing twice
            assert not health.report(cfg, store, slot + 700)["weekly_report"]["problem"]
            done = [u for u in slack.uploads.values() if u["completed"]]
            assert len(done) == 1 and done[0]["channel"] == "C0123ABCD"
            assert done[0]["data"][:8] == b"\x89PNG\r\n\x1a\n" and "*Mentions*" not in done[0]["initial_comment"]
            assert "Median time to acknowledge" in done[0]["initial_comment"]
            html = Path(row["html_path"]).read_text()
            assert "Mentions report" in html and "<svg" in html
            assert schedule.run_weekly(store, cfg, slot + 7 * DAY + 2 * DAY) is None    # missed by 2 days: skipped
        finally:
            store.close()


def _report_cfg(tmp_path: Path):  # noqa: ANN202 - the pydantic model
    from monitor.config.settings import ReportConfig
    return ReportConfig(slack_channel="C0123ABCD", folder=str(tmp_path / "reports"))


def test_digest_links_to_the_dashboard_and_report(built):
    from monitor.alerting.digest import OwnerDigest, render
    store = Store(built.db, readonly=True)
    try:
        payload = render(OwnerDigest("comms-oncall", "2026-01-01"), store, link="https://dash.example")
    finally:
        store.close()
    text = str(payload["blocks"])
    assert "<https://dash.example/report?period=7d|This week's report>" in text


def test_hostile_text_is_stored_verbatim(built):
    store = Store(built.db, readonly=True)
    try:
        assert store.one("SELECT text FROM mentions WHERE id = ?", (built.hostile_id,))["text"] == HOSTILE
    finally:
        store.close()


def test_spike_alerts_mark_their_bucket_and_issue_types_are_counted(fresh_db):
    from monitor.ops.dashboard.figures import series
    t0 = 472_222 * 3600.0                  # on the hour: hourly buckets start at t0
    with fresh_db.tx() as db:
        for i, (issue, neg) in enumerate((("billing", 1), ("billing", 1), ("outage", 1), (None, 0))):
            db.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, brands, status,"
                       " negative, score, issue) VALUES ('s', 'rss', ?, 'acme', ?, '[\"acme\"]', 'routed', ?, ?, ?)",
                       (f"e{i}", t0 + 3 * 3600 + i, neg, -0.5 if neg else 0.6, issue))
        db.execute("INSERT INTO alerts (kind, group_key, brand, targets, created_at, updated_at)"
                   " VALUES ('spike', 'spike:acme', 'acme', '[]', ?, ?)", (t0 + 5 * 3600 + 10, t0 + 5 * 3600 + 10))
    w = Window(t0, t0 + 86400, "UTC")
    s = series(fresh_db, w)
    assert s.spikes == [5]
    assert s.by_issue == {"billing": [0, 0, 0, 2] + [0] * 20, "outage": [0, 0, 0, 1] + [0] * 20}
    assert s.by_sentiment["negative"][3] == 3 and s.by_sentiment["positive"][3] == 1
    assert s.negative_share[3] == 0.75 and s.negative_share[0] is None


def test_a_database_not_yet_migrated_is_said_not_a_crash(built, tmp_path):
    import sqlite3
    old = tmp_path / "old.db"
    src = sqlite3.connect(built.db)
    src.execute("VACUUM INTO ?", (str(old),))
    src.close()
    with sqlite3.connect(old) as conn:
        conn.execute("PRAGMA user_version = 6")
    cfg = load_config(built.config)
    c = TestClient(dashboard(cfg, None, str(old), with_datasette=False).app, base_url="http://127.0.0.1")
    r = c.get("/")
    assert r.status_code == 503 and "schema v6" in r.text and "start the daemon once" in r.text


def test_custom_dates_and_brand_change_the_figures(built):
    from datetime import UTC, datetime
    c = _client(built)
    day = datetime.fromtimestamp(built.now - 2 * DAY, UTC).strftime("%Y-%m-%d")
    page = c.get("/", params={"period": "30d", "start": day, "end": day}).text
    store = Store(built.db, readonly=True)
    try:
        t0 = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
        n = store.one("SELECT COUNT(*) AS n FROM mentions WHERE status IN ('matched','routed') AND collected_at >= ?"
                      " AND collected_at < ?", (t0, t0 + DAY))["n"]
        globex = store.one("SELECT COUNT(*) AS n FROM mentions WHERE brands LIKE '%globex%'")["n"]
    finally:
        store.close()
    assert n and f'<div class="value">{n:,}</div>' in page
    assert f'<div class="value">{globex:,}</div>' in c.get("/", params={"brand": "globex"}).text


def test_one_weekly_report_per_listed_brand(built, tmp_path):
    from monitor.config.settings import ReportConfig
    base = load_config(built.config)
    cfg = type(base)(**{**base.__dict__, "report": ReportConfig(brands=["acme", "globex"],
                                                                folder=str(tmp_path / "r"))})
    db = tmp_path / "b.db"
    src = Store(built.db)
    src.db.conn.execute("VACUUM INTO ?", (str(db),))
    src.close()
    store = Store(db)
    try:
        slot = schedule.last_slot(built.now, "monday", "09:00", "UTC")
        assert schedule.run_weekly(store, cfg, slot + 1) is not None
        names = sorted(p.name for p in (tmp_path / "r").iterdir())
    finally:
        store.close()
    assert len(names) == 2 and names[0].endswith("-acme.html") and names[1].endswith("-globex.html")


def test_monitor_run_once_writes_the_weekly_report(tmp_path):
    """Wired into `monitor run`: a cron pass after the slot writes the week's report, the next pass does not."""
    from monitor.core.clock import FakeClock
    from monitor.runtime.daemon import App, Paths, run_once
    from tests.conftest import write_config

    slot = schedule.last_slot(1_795_000_000.0, "monday", "09:00", "Europe/Paris")
    cfg, rules = write_config(tmp_path, sources="[]\n", extra=f"dashboard:\n  tz: Europe/Paris\n  url: https://m.example\n"
                              f"report:\n  folder: {tmp_path / 'reports'}\n")
    app = App(Paths(str(cfg), str(rules)), clock=FakeClock(slot + 120))
    try:
        run_once(app, delivery_budget_s=1)
        run_once(app, delivery_budget_s=1)
        rows = app.store.query("SELECT * FROM reports")
    finally:
        app.close()
    files = list((tmp_path / "reports").iterdir())
    assert len(rows) == 1 and len(files) == 1 and rows[0]["html_path"] == str(files[0])
    assert "https://m.example" in files[0].read_text()


def test_brand_filter_matches_the_whole_brand_name(fresh_db):
    with fresh_db.tx() as db:
        for i, brands in enumerate(('["acme"]', '["acme-brick"]', '["globex", "acme"]', '["xacme"]')):
            db.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, brands, status,"
                       " negative) VALUES ('s', 'rss', ?, 't', 10, ?, 'matched', 0)", (f"e{i}", brands))
    assert headline(fresh_db, Window(0, 100, "UTC", "acme")).mentions == 2
    assert headline(fresh_db, Window(0, 100, "UTC", "acme-brick")).mentions == 1
