"""Retention: old mentions go, alerts and their evidence stay, counts survive, the database stays bounded."""

from __future__ import annotations

import time

import pytest

from monitor.alerting.lifecycle import transition
from monitor.core.clock import FakeClock
from monitor.core.errors import ConfigValidationError
from monitor.core.model import Target
from monitor.notify.queue import notify_plain
from monitor.runtime.daemon import App, Paths, run_once
from monitor.store import retention
from monitor.store.database import Store
from tests.conftest import write_config
from tests.fakes.feeds import Feed, Item

DAY = 86400.0


def _items(prefix: str, when: float) -> list[Item]:
    return [Item(f"{prefix}-neg", "Acme support is terrible", "Rude, useless, awful.", published=when),
            Item(f"{prefix}-pos", "I love Acme", "Great blender, wonderful.", published=when),
            Item(f"{prefix}-pos2", "Acme blender review", "Works great, love it.", published=when),
            Item(f"{prefix}-none", "Weather today", "Rain again.", published=when)]


def _app(tmp_path, feed_server, fake_slack, clock, retention_setting="30d") -> App:
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """)
    cfg.write_text(cfg.read_text().replace("storage:\n", f"storage:\n  retention: {retention_setting}\n"))
    return App(Paths(str(cfg), str(rules)), clock=clock)


def _collected(app: App) -> float:
    value = app.metrics.registry.get_sample_value("monitor_mentions_collected_total", {"source": "news"})
    return value or 0.0


def test_old_mentions_pruned_alerts_and_evidence_kept(tmp_path, feed_server, fake_slack, slack_env, backend):
    clock = FakeClock(time.time())
    app = _app(tmp_path, feed_server, fake_slack, clock)
    try:
        feed_server.feeds["/news.xml"] = Feed(_items("d0", clock.now() - 60))
        run_once(app, delivery_budget_s=5)
        ids = {r["external_id"]: r["id"] for r in app.store.query("SELECT id, external_id FROM mentions")}
        alert = app.store.one("SELECT * FROM alerts")
        transition(app.store, alert["id"], "ack", "jane")
        with app.store.tx() as db:     # "Not negative" feedback on a mention keeps it too
            db.execute("INSERT INTO feedback (mention_id, verdict, at) VALUES (?, 'not_negative', ?)",
                       (ids["d0-pos"], clock.now()))
        notify_plain(app.store, "health:news:failing:1", "Source failing", [Target("comms-oncall", "#comms-alerts")])
        # past the host's politeness hold the first pass left (per_host_interval, on the fake database clock: frozen,
        # the second pass waited it out for one `every`, 5 minutes of the suite on PostgreSQL)
        clock.advance(5)
        run_once(app, delivery_budget_s=5)                     # the notice goes out
        before = _collected(app)
        assert before == 4

        clock.advance(40 * DAY)
        feed_server.feeds["/news.xml"] = Feed(_items("d40", clock.now() - 60))
        run_once(app, delivery_budget_s=5)                     # due: the last run was 40 days ago

        left = {r["external_id"] for r in app.store.query("SELECT external_id FROM mentions")}
        assert {"d0-neg", "d0-pos"} <= left                    # linked to the alert / to feedback
        assert not {"d0-pos2", "d0-none"} & left               # pruned
        assert {"d40-neg", "d40-pos", "d40-pos2", "d40-none"} <= left
        kept = app.store.one("SELECT * FROM alerts WHERE id = ?", (alert["id"],))
        assert kept["state"] == "acknowledged" and kept["acked_by"] == "jane"
        events = [r["kind"] for r in app.store.query("SELECT kind FROM alert_events WHERE alert_id = ?",
                                                        (alert["id"],))]
        assert events[0] == "opened" and "acknowledged" in events     # (plus "notified", "grouped"...)
        assert app.store.one("SELECT COUNT(*) AS n FROM deliveries WHERE alert_id = ? AND kind = 'post'"
                             " AND parent_id IS NULL", (alert["id"],))["n"] == 1          # its root message kept
        assert app.store.one("SELECT COUNT(*) AS n FROM deliveries WHERE alert_id IS NULL")["n"] == 0  # old notice

        day0 = time.strftime("%Y-%m-%d", time.gmtime(clock.now() - 40 * DAY))
        summary = {r["brand"]: r for r in app.store.query("SELECT * FROM mention_daily WHERE day = ?", (day0,))}
        assert summary[""]["mentions"] == 2 and summary[""]["matched"] == 1 and summary[""]["negative"] == 0
        assert summary["acme"]["mentions"] == 1
        assert _collected(app) == before + 4                   # counters stay monotonic across the prune

        assert retention.run_if_due(app.store, 30 * DAY) is None      # daily: not again the same day
        clock.advance(DAY)
        result = retention.run_if_due(app.store, 30 * DAY)
        assert result is not None and result.mentions == 0 and result.kept_linked == 2
    finally:
        app.close()


def test_retention_null_keeps_everything(tmp_path):
    store = Store(tmp_path / "m.db", FakeClock())
    assert retention.run_if_due(store, None) is None
    store.close()


def test_retention_shorter_than_a_day_is_a_config_error(tmp_path, feed_server, fake_slack):
    with pytest.raises(ConfigValidationError) as err:
        _app(tmp_path, feed_server, fake_slack, FakeClock(), retention_setting="2h")
    assert "storage.retention" in str(err.value) and "shorter than a day" in str(err.value)


def test_database_stays_bounded(tmp_path):
    """Sixty days of 2,000 mentions a day under a 7-day retention: the file stops growing after a week."""
    clock = FakeClock(1_700_000_000.0)
    store = Store(tmp_path / "m.db", clock)
    pages: list[int] = []
    text = "Acme " + "lorem ipsum dolor sit amet " * 20
    try:
        for day in range(60):
            with store.tx() as db:
                db.conn.executemany(
                    "INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, processed_at,"
                    " brands, status, negative) VALUES ('news', 'rss', ?, ?, ?, ?, '[\"acme\"]', 'matched', 0)",
                    [(f"{day}-{i}", text, clock.now(), clock.now()) for i in range(2000)])
            clock.advance(DAY)
            retention.prune(store, 7 * DAY)
            pages.append(store.db.execute("PRAGMA page_count").fetchone()[0])
        live = store.one("SELECT COUNT(*) AS n FROM mentions")["n"]
        assert live <= 7 * 2000
        assert max(pages[15:]) <= pages[10] * 1.05, pages          # flat once in steady state
        total = store.one("SELECT SUM(mentions) AS n FROM mention_daily WHERE brand = ''")["n"]
        assert total + live == 60 * 2000                            # every pruned mention still counted
    finally:
        store.close()
