"""The dashboard's health strip and /api/health: what `monitor status` knows (a source disabled, failing or
overdue, Slack delivery halted or stuck, mentions parked), said in plain words on every page, with held states
(quiet hours, unscored languages); hostile error text escaped, capped and scrubbed; behind the same access check."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from monitor.cli import main
from monitor.config.rules import load_rules
from monitor.config.settings import load_config
from monitor.ops.ui import dashboard
from monitor.store.database import Store
from tests.conftest import RULES, write_config
from tests.health_fixtures import RSS_KINDS, RSS_SOURCES, healthy_store

PAGES = ("/", "/feed", "/alerts", "/report")


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> str:
    """The dashboard is SQLite-only (as in tests/test_dashboard.py)."""
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    return "sqlite"


@dataclass
class Site:
    cfg: Path
    rules: Path
    store: Store
    now: float

    def client(self) -> TestClient:
        cfg = load_config(self.cfg)
        return TestClient(dashboard(cfg, load_rules(self.rules), str(self.store.path), with_datasette=False).app,
                          base_url="http://127.0.0.1")

    def change(self, sql: str, params: tuple = ()) -> None:
        with self.store.tx() as db:
            db.execute(sql, params)

    def lines(self, path: str = "/api/health") -> list[dict]:
        return self.client().get(path).json()["lines"]


@pytest.fixture
def site(tmp_path: Path, backend: str):
    cfg, rules = write_config(tmp_path, sources=RSS_SOURCES, slack_mode="bot")
    now = time.time()
    store = healthy_store(tmp_path / "monitor.db", now, RSS_KINDS, queued=True)
    yield Site(cfg, rules, store, now)
    store.close()


def _strip_html(html: str) -> str:
    m = re.search(r'<section class="health".*?</section>', html, re.S)
    assert m, "no health strip on the page"
    return m.group(0)


def test_health_strip_healthy_store_shows_no_problem(site):
    c = site.client()
    for path in PAGES:
        strip = _strip_html(c.get(path).text)
        assert "All sources healthy" in strip and "critical" not in strip and "warning" not in strip, path
    body = c.get("/api/health").json()
    assert body["healthy"] is True and body["problems"] == 0 and body["lines"] == []


@pytest.mark.parametrize("change, severity, kind, words", [
    ("UPDATE sources SET disabled_reason = 'no token' WHERE id = 'reviews-acme'", "critical", "source",
     "Source reviews-acme is disabled: no token."),
    ("UPDATE sources SET consecutive_failures = 3, last_error = 'HTTP 503 from x' WHERE id = 'reviews-acme'",
     "warning", "source", "Source reviews-acme is failing: its last 3 checks failed"),
    ("UPDATE sources SET last_attempt = last_attempt - 7200, last_success = last_success - 7200 WHERE id = 'news'",
     "critical", "source", "Source news has not been checked for 2h1m (it should be every 5m)"),
    ("UPDATE deliveries SET last_error = 'halted: Slack refused the token: invalid_auth'", "critical", "delivery",
     "Slack delivery is halted: Slack refused the token: invalid_auth (oldest waiting since"),
    ("UPDATE deliveries SET created_at = created_at - 3600, last_error = 'HTTP 503'", "critical", "delivery",
     "1 Slack message(s) have waited more than 15m to be sent"),
])
def test_health_strip_says_each_problem_with_its_severity(site, change, severity, kind, words):
    site.change(change)
    [line] = site.lines()
    assert (line["severity"], line["kind"]) == (severity, kind) and line["text"].startswith(words), line
    c = site.client()
    for path in PAGES:                                        # on every page, in the same words
        strip = _strip_html(c.get(path).text)
        assert f'class="health-line {severity}" data-kind="{kind}"' in strip and "All sources healthy" not in strip
        assert words.split(" (")[0] in strip.replace("&#39;", "'"), path


def test_health_strip_parked_mentions(site):
    for i in range(3):
        site.change("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, route_attempts,"
                    " route_error, route_failed_at, route_parked_at) VALUES ('news', 'rss', ?, 'acme', ?, 5,"
                    " 'ValueError: boom', ?, ?)", (f"e{i}", site.now, site.now, site.now))
    [line] = site.lines()
    assert line["severity"] == "warning" and line["kind"] == "routing"
    assert line["text"].startswith("3 mention(s) could not be analysed and are parked")


def test_health_strip_agrees_with_monitor_status(site, capsys):
    """One source of truth: the strip is unhealthy exactly when `monitor status` exits 1, problem for problem."""
    site.change("UPDATE sources SET disabled_reason = 'HTTP 401' WHERE id = 'reviews-acme'")
    site.change("UPDATE deliveries SET last_error = 'halted: invalid_auth'")
    rc = main(["status", "--config", str(site.cfg), "--json"])
    rep = json.loads(capsys.readouterr().out)
    body = site.client().get("/api/health").json()
    assert rc == 1 and body["healthy"] is False and body["problems"] == len(rep["problems"]) == 2


HOSTILE = ("<script>window.__pwned=1</script> <!channel> *bold* <https://evil.example|click here> "
           "token xoxb-1234567890-abcdefghijkl at https://api.example/x?access_token=SECRETVALUE "
           "Authorization: Bearer abcdefghijklmnop1234 \x1b[2J" + "A" * 10_000)


def test_health_strip_hostile_error_text_is_escaped_capped_and_scrubbed(site):
    site.change("UPDATE sources SET consecutive_failures = 4, last_error = ? WHERE id = 'reviews-acme'", (HOSTILE,))
    site.change("UPDATE deliveries SET last_error = ?", ("halted: " + HOSTILE,))
    c = site.client()
    html = c.get("/").text
    strip = _strip_html(html)
    assert "<script>" not in html and "&lt;script&gt;" in strip            # escaped by the template
    assert "&lt;!channel&gt;" in strip and "<https://evil" not in strip     # Slack mrkdwn is plain text here
    for secret in ("xoxb-1234567890", "SECRETVALUE", "abcdefghijklmnop1234"):
        assert secret not in html                                           # scrubbed
    assert "\x1b" not in html
    assert "A" * 300 not in html and len(strip) < 4000                      # capped
    body = c.get("/api/health").json()
    assert len(body["lines"]) == 2 and all(len(ln["text"]) <= 600 for ln in body["lines"])
    assert not any(secret in ln["text"] for ln in body["lines"] for secret in ("xoxb-1234567890", "SECRETVALUE"))


def test_health_strip_quiet_hours_and_unscored_mentions(tmp_path, backend):
    """Held states are said too: alerts held by quiet hours now (as `monitor status` counts them), and mentions
    of the period left unscored because their language is not supported; neither makes the monitor unhealthy."""
    now = time.time()
    start = time.strftime("%H:%M", time.gmtime(now - 3600))
    end = time.strftime("%H:%M", time.gmtime(now + 2 * 3600))
    rules = RULES + f'quiet_hours: {{from: "{start}", to: "{end}", tz: UTC}}\n'
    cfg, rules_path = write_config(tmp_path, sources="[]\n", slack_mode="bot", rules=rules)
    store = Store(tmp_path / "monitor.db")
    try:
        with store.tx() as db:
            db.execute("INSERT INTO alerts (group_key, targets, state, created_at, updated_at, flush_at) VALUES"
                       " ('g', '[]', 'open', ?, ?, ?)", (now - 60, now - 60, now + 5))
            for i, lang in enumerate(("pl", "pl", "tr")):
                db.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, status,"
                           " brands, language, unscored, negative) VALUES ('s', 'rss', ?, 'acme', ?, 'routed',"
                           " '[\"acme\"]', ?, 1, 0)", (f"u{i}", now - 600, lang))
        c = TestClient(dashboard(load_config(cfg), load_rules(rules_path), str(store.path),
                                 with_datasette=False).app, base_url="http://127.0.0.1")
        body = c.get("/api/health").json()
        kinds = {ln["kind"]: ln for ln in body["lines"]}
        assert body["healthy"] is True and body["problems"] == 0
        assert kinds["quiet_hours"]["severity"] == "info"
        assert kinds["quiet_hours"]["text"].startswith("1 alert(s) are held by quiet hours until")
        assert kinds["unscored"]["text"].startswith("3 mention(s) in this period were not scored for sentiment "
                                                    "(language not supported: pl, tr)")
        assert kinds["unscored"]["link"] == "/feed?period=7d&sentiment=unscored"
        strip = _strip_html(c.get("/alerts").text)
        assert "held by quiet hours" in strip and "All sources healthy" in strip
        assert "not scored" not in c.get("/api/health", params={"period": "custom", "start": "2001-01-01",
                                                                 "end": "2001-01-02"}).text
    finally:
        store.close()


def test_health_strip_api_needs_the_same_access_as_the_pages(site, monkeypatch):
    monkeypatch.setenv("DASH_TOKEN", "s3cret-token")
    cfg = load_config(site.cfg)
    cfg = type(cfg)(**{**cfg.__dict__, "dashboard": cfg.dashboard.model_copy(update={"token_env": "DASH_TOKEN"})})
    c = TestClient(dashboard(cfg, load_rules(site.rules), str(site.store.path), with_datasette=False).app,
                   base_url="http://127.0.0.1")
    assert c.get("/api/health").status_code == 401
    assert c.get("/healthz").text == "ok"                                   # liveness stays open and plain
    r = c.get("/api/health", headers={"Authorization": "Bearer s3cret-token"})
    assert r.status_code == 200 and r.json()["healthy"] is True
    assert r.headers["cache-control"] == "no-store"


def test_regression_held_alerts_counted_two_ways_board_strip_and_status_agree(tmp_path, backend, capsys):
    """Regression: the alerts board counted "held by quiet hours" from the `quiet_exempt` column stored when the
    alert was created and ignored when the held timer comes due, while the strip and `monitor status` used the
    current `except:` list and the timing; the board's count was per brand, the strip's global. Now one
    definition (`quiet.held_until`) is used everywhere, the strip with the page's brand as the board."""
    now = time.time()
    start = time.strftime("%H:%M", time.gmtime(now - 3600))
    end = time.strftime("%H:%M", time.gmtime(now + 2 * 3600))
    rules = RULES + f'quiet_hours: {{from: "{start}", to: "{end}", tz: UTC}}\n'   # `except:` emptied since
    brands = "acme:\n  query: acme\nglobex:\n  query: globex\n"
    cfg, rules_path = write_config(tmp_path, sources="[]\n", slack_mode="bot", rules=rules, brands=brands)
    store = Store(tmp_path / "monitor.db")
    ins = ("INSERT INTO alerts (group_key, brand, route, targets, state, created_at, updated_at, quiet_exempt,"
           " flush_at, next_action_at) VALUES (?, ?, 'any-negative', '[]', 'open', ?, ?, ?, ?, ?)")
    try:
        with store.tx() as db:
            # excepted when created (stored quiet_exempt = 1), not any more: held now (the board said open)
            db.execute(ins, ("a1", "acme", now - 60, now - 60, 1, now + 5, None))
            # its next timer is due after quiet hours end: nothing waits (the board said held)
            db.execute(ins, ("a2", "acme", now - 60, now - 60, 0, None, now + 5 * 3600))
            # held, another brand: counted globally by `monitor status`, not on acme's board and strip
            db.execute(ins, ("g1", "globex", now - 60, now - 60, 0, now + 5, None))
        c = TestClient(dashboard(load_config(cfg), load_rules(rules_path), str(store.path),
                                 with_datasette=False).app, base_url="http://127.0.0.1")

        def board_held(brand: str | None) -> int:
            html = c.get("/alerts", params={"brand": brand} if brand else {}).text
            col = re.search(r'<div class="col" id="held">(.*?)<div class="col"', html, re.S)
            return len(re.findall(r'data-state="held"', col.group(1))) if col else -1

        def strip_held(brand: str | None) -> int:
            lines = c.get("/api/health", params={"brand": brand} if brand else {}).json()["lines"]
            q = [ln["text"] for ln in lines if ln["kind"] == "quiet_hours"]
            return int(q[0].split()[0]) if q else 0

        assert board_held("acme") == strip_held("acme") == 1
        assert board_held("globex") == strip_held("globex") == 1
        assert board_held(None) == strip_held(None) == 2
        html = c.get("/alerts", params={"brand": "acme"}).text
        assert re.search(r'id="alert-1" data-state="held"', html) and re.search(r'id="alert-2" data-state="open"', html)
        assert main(["status", "--config", str(cfg), "--rules", str(rules_path), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["quiet_hours"]["held"] == 2
    finally:
        store.close()


def test_regression_disconnected_stream_shows_in_the_strip(tmp_path, backend):
    """Regression: a stream disconnected for long (or never connected) was not a problem for `monitor status`,
    so the strip said "All sources healthy". Now it is a critical line in plain words, from `health.report()`."""
    from monitor.ops.health import STREAM_DOWN_GRACE_S

    cfg, rules = write_config(tmp_path, sources="- id: bsky\n  kind: jetstream\n  url: ws://127.0.0.1:9/sub\n",
                              slack_mode="bot")
    store = Store(tmp_path / "monitor.db")
    now = time.time()
    try:
        with store.tx() as db:
            db.execute("INSERT INTO sources (id, kind, last_attempt, last_success, consecutive_failures, last_error)"
                       " VALUES ('bsky', 'jetstream', ?, ?, 2, 'connection refused')", (now - 30, now - 86400))
            db.execute("INSERT INTO stream_status (source_id, connected, updated_at, down_since) VALUES"
                       " ('bsky', 0, ?, ?)", (now - 5, now - 120))
        site = Site(cfg, rules, store, now)
        assert [ln for ln in site.lines() if ln["kind"] == "source"] == []        # within the grace period
        site.change("UPDATE stream_status SET down_since = ?", (now - STREAM_DOWN_GRACE_S - 1800,))
        body = site.client().get("/api/health").json()
        [line] = [ln for ln in body["lines"] if ln["kind"] == "source"]
        assert body["healthy"] is False and line["severity"] == "critical"
        assert line["text"].startswith("Stream bsky has been disconnected for 40m")
        assert "new mentions from it are not collected until it reconnects. It has tried 2 time(s) in a row" \
            in line["text"] and "Last error: connection refused." in line["text"]
        site.change("UPDATE sources SET last_success = NULL")
        [line] = [ln for ln in site.lines() if ln["kind"] == "source"]
        assert line["text"].startswith("Stream bsky has never connected (trying for 40m")
    finally:
        store.close()


def test_regression_dashboard_read_rules_once_now_follows_rules_yaml(tmp_path, backend):
    """Regression: `monitor ui` read rules.yaml once at start, so a quiet-hours or `except:` change showed in
    neither the strip nor the board until it restarted. Now each request stats the file and reads a settled
    change, validated whole; an invalid edit keeps the last good rules and says so in the strip."""
    import os

    now = time.time()
    quiet = (f'quiet_hours: {{from: "{time.strftime("%H:%M", time.gmtime(now - 3600))}", '
             f'to: "{time.strftime("%H:%M", time.gmtime(now + 2 * 3600))}", tz: UTC}}\n')
    cfg, rules_path = write_config(tmp_path, sources="[]\n", slack_mode="bot")      # no quiet hours at start
    store = Store(tmp_path / "monitor.db")

    def save(text: str, settled: bool = True) -> None:
        rules_path.write_text(text)
        if settled:                                   # written long enough ago not to be a save in progress
            os.utime(rules_path, (time.time() - 10, time.time() - 10))

    try:
        with store.tx() as db:
            db.execute("INSERT INTO alerts (group_key, brand, route, targets, state, created_at, updated_at,"
                       " flush_at) VALUES ('g', 'acme', 'any-negative', '[]', 'open', ?, ?, ?)",
                       (now - 60, now - 60, now + 5))
        c = TestClient(dashboard(load_config(cfg), load_rules(rules_path), str(store.path), with_datasette=False,
                                 rules_path=rules_path).app, base_url="http://127.0.0.1")

        def kinds() -> dict[str, dict]:
            return {ln["kind"]: ln for ln in c.get("/api/health").json()["lines"]}

        def state() -> str:
            return re.search(r'id="alert-1" data-state="(\w+)"', c.get("/alerts").text).group(1)

        assert "quiet_hours" not in kinds() and state() == "open"
        save(RULES + quiet, settled=False)                          # still being written: not read yet
        assert "quiet_hours" not in kinds() and state() == "open"
        save(RULES + quiet)                                         # quiet hours on: seen without a restart
        assert kinds()["quiet_hours"]["text"].startswith("1 alert(s) are held by quiet hours") and state() == "held"

        save(RULES.replace("notify: comms-oncall\n  group_wait", "notify: nobody-known\n  group_wait") + quiet)
        # ^ invalid (an unknown owner): the last good rules are kept, and that is said
        k = kinds()
        assert k["rules"]["severity"] == "warning" and "nobody-known" in k["rules"]["text"]
        assert k["rules"]["text"].startswith("rules.yaml was changed but cannot be used (")
        assert "keeps showing quiet hours and routes from the last good version" in k["rules"]["text"]
        assert k["quiet_hours"]["text"].startswith("1 alert(s) are held") and state() == "held"
        assert "was changed but cannot be used" in _strip_html(c.get("/alerts").text)

        save(RULES + quiet.replace("tz: UTC}", "tz: UTC, except: [any-negative]}"))     # fixed, route excepted
        k = kinds()
        assert "rules" not in k and "quiet_hours" not in k and state() == "open"
    finally:
        store.close()
