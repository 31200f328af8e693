"""A dashboard started on a store alone (no monitor.yaml: the benchmark's way) still has a strip: what the store
records (a source disabled or failing, Slack delivery halted, mentions parked) and, plainly, which checks were
skipped; never "All sources healthy". A saved report (the weekly file, `monitor report`, /report.md) keeps the
strip's lines as of when it was made, escaped, capped and scrubbed, so a reader of an old report knows its
figures were incomplete."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from monitor.cli import main
from monitor.config.settings import ReportConfig, load_config
from monitor.ops.dashboard import schedule
from monitor.ops.dashboard.web import Dashboard, Settings
from monitor.store.database import Store
from tests.conftest import write_config
from tests.health_fixtures import RSS_KINDS, healthy_store

HOSTILE = ("<script>window.__pwned=1</script> token xoxb-1234567890-abcdefghijkl "
           "https://api.example/x?access_token=SECRETVALUE " + "A" * 5000)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    s = healthy_store(tmp_path / "monitor.db", time.time(), RSS_KINDS)
    yield s
    s.close()


def _client(store: Store) -> TestClient:
    return TestClient(Dashboard(Settings(str(store.path), "UTC", ("acme",))).app, base_url="http://127.0.0.1")


def _break(store: Store) -> None:
    now = time.time()
    with store.tx() as db:
        db.execute("UPDATE sources SET disabled_reason = 'HTTP 401' WHERE id = 'news'")
        db.execute("UPDATE sources SET consecutive_failures = 6, health_alerted = 1, last_error = ? WHERE"
                   " id = 'reviews-acme'", (HOSTILE,))
        db.execute("INSERT INTO deliveries (dedupe_key, kind, channel, payload, created_at, last_error) VALUES"
                   " ('d1', 'post', '#c', '{}', ?, 'halted: Slack refused the token: invalid_auth')", (now - 60,))
        db.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, route_attempts,"
                   " route_error, route_failed_at, route_parked_at) VALUES ('news', 'rss', 'p', 'acme', ?, 5, 'boom',"
                   " ?, ?)", (now, now, now))


def test_no_config_healthy_store_says_what_was_skipped_never_all_healthy(store):
    c = _client(store)
    body = c.get("/api/health").json()
    assert body["healthy"] is None and body["complete"] is False and body["problems"] == 0
    [line] = body["lines"]
    assert line["kind"] == "skipped" and line["severity"] == "info"
    assert line["text"].startswith("Read without monitor.yaml: ") and "Not checked: " in line["text"]
    for path in ("/", "/feed", "/alerts", "/report"):
        strip = re.search(r'<section class="health".*?</section>', c.get(path).text, re.S)
        assert strip and "Read without monitor.yaml" in strip.group(0) and "All sources healthy" not in strip.group(0)


def test_no_config_strip_shows_what_the_store_records(store):
    _break(store)
    body = _client(store).get("/api/health").json()
    got = {(ln["kind"], ln["severity"], ln["text"].split(":")[0]) for ln in body["lines"]}
    assert body["healthy"] is False and body["problems"] == 4
    assert ("source", "critical", "Source news is disabled") in got
    assert ("source", "warning", "Source reviews-acme is failing") in got
    assert ("delivery", "critical", "Slack delivery is halted") in got
    assert any(k == "routing" for k, _, _ in got) and any(k == "skipped" for k, _, _ in got)


def _assert_kept(text: str) -> None:
    assert "Monitor health when this report was made" in text
    assert "Source news is disabled" in text and "Source reviews-acme is failing" in text
    assert "<script>" not in text and "xoxb-1234567890" not in text and "SECRETVALUE" not in text
    assert "A" * 300 not in text


def test_saved_weekly_report_keeps_the_strip_as_of_when_it_was_made(store, tmp_path):
    _break(store)
    cfg, _ = write_config(tmp_path, sources="- id: news\n  kind: rss\n  url: http://127.0.0.1:9/a.xml\n"
                                            "- id: reviews-acme\n  kind: rss\n  url: http://127.0.0.1:9/b.xml\n",
                          slack_mode="bot")
    base = load_config(cfg)
    config = type(base)(**{**base.__dict__, "report": ReportConfig(folder=str(tmp_path / "reports"))})
    now = time.time()
    slot = schedule.last_slot(now, "monday", "09:00", "UTC")
    done = schedule.run_weekly(store, config, slot + 60)
    assert done and done.startswith("html ")
    html = Path(done.split(" ", 1)[1]).read_text()
    _assert_kept(html)
    assert "without monitor.yaml" not in html                   # made with the config: every check
    assert 'href="/feed' not in html                                       # no dashboard beside a file


def test_monitor_report_and_report_md_keep_the_strip(store, tmp_path, capsys):
    _break(store)
    cfg, _ = write_config(tmp_path, sources="[]\n", slack_mode="bot")
    out = tmp_path / "r.html"
    assert main(["report", "--config", str(cfg), "--format", "html", "--output", str(out)]) == 0
    html = out.read_text()
    assert "Monitor health when this report was made" in html and "Slack delivery is halted" in html
    # regression: `monitor report` made its strip without the config it had loaded ("Read without monitor.yaml");
    # with it, the sources are the configured ones (none here), so the store's "news" row is not reported
    assert "without monitor.yaml" not in html and "Source news" not in html
    md = _client(store).get("/report.md").text
    _assert_kept(md)
    assert "\\<script\\>" in md                                          # Markdown made inert, not HTML-escaped
    assert re.search(r"^- CRITICAL: Source news is disabled", md, re.M)
