"""One read per request: a page with a board (/, /alerts) reads the open alerts once (the board; the strip's
held count is the board's "held" column) and rules.yaml once (the board and the strip use that reading); /feed,
which has no board, reads each once for its strip. The held count is still read with the page, never cached
(tests/test_dashboard_browser.py: a Not-negative click is seen at once)."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from starlette.testclient import TestClient

from monitor.config.rules import load_rules
from monitor.config.settings import load_config
from monitor.ops.dashboard.liverules import LiveRules
from monitor.ops.ui import dashboard
from monitor.store.database import Store
from tests.conftest import RULES, write_config

OPEN_ALERTS = "SELECT * FROM alerts WHERE state != 'resolved'"


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    now = time.time()
    quiet = (f'quiet_hours: {{from: "{time.strftime("%H:%M", time.gmtime(now - 3600))}", '
             f'to: "{time.strftime("%H:%M", time.gmtime(now + 2 * 3600))}", tz: UTC}}\n')
    cfg, rules = write_config(tmp_path, sources="[]\n", slack_mode="bot", rules=RULES + quiet)
    store = Store(tmp_path / "monitor.db")
    with store.tx() as db:
        for i, flush in enumerate((now + 5, None, now + 5)):
            db.execute("INSERT INTO alerts (group_key, brand, route, targets, state, created_at, updated_at, flush_at)"
                       " VALUES (?, 'acme', 'any-negative', '[]', 'open', ?, ?, ?)", (f"g{i}", now - 60, now - 60, flush))
    board = dashboard(load_config(cfg), load_rules(rules), str(store.path), with_datasette=False, rules_path=rules)
    client = TestClient(board.app, base_url="http://127.0.0.1")
    client.board = board
    yield client, store
    store.close()


def _reads(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Counts, per request: queries of the open alerts, and readings of rules.yaml."""
    seen: Counter = Counter()
    query, current = Store.query, LiveRules.current

    def counted_query(self, sql, params=()):
        seen["open alerts"] += sql.lstrip().startswith(OPEN_ALERTS)
        return query(self, sql, params)

    def counted_current(self):
        seen["rules"] += 1
        return current(self)

    monkeypatch.setattr(Store, "query", counted_query)
    monkeypatch.setattr(LiveRules, "current", counted_current)
    return seen


@pytest.mark.parametrize("cache", ["warm", "cold"])
@pytest.mark.parametrize("path", ["/", "/alerts", "/feed", "/?brand=acme", "/alerts?brand=acme", "/feed?brand=acme"])
def test_one_read_of_the_open_alerts_and_of_the_rules_per_page(site, monkeypatch, path, cache):
    """Warm: the status report is cached (5 s, not per page); cold: the page reads it too, from the same rows.
    Regression (cold): the report read the open alerts again for its count by owner, beside the board's read."""
    client, _ = site
    if cache == "warm":
        client.get(path)
    seen = _reads(monkeypatch)
    html = client.get(path).text
    assert seen == Counter({"open alerts": 1, "rules": 1}), seen
    assert "2 alert(s) are held by quiet hours" in html


def test_the_report_of_a_cold_request_counts_every_brand_s_open_alerts(site):
    """The board of one brand reads the open alerts of all (the status report counts them all, by owner); the
    board and the strip's held count are the brand's."""
    client, store = site
    with store.tx() as db:
        db.execute("INSERT INTO alerts (group_key, brand, route, targets, state, created_at, updated_at, flush_at)"
                   " VALUES ('o', 'other', 'any-negative', '[{\"owner\": \"support\"}]', 'open', 0, 0, ?)",
                   (time.time() + 5,))
    html = client.get("/alerts?brand=acme").text
    assert "2 alert(s) are held by quiet hours" in html and html.count('data-state="held"') == 2
    assert client.board.health.cache[1]["open_alerts"] == {"support": 1}


def test_held_count_is_read_with_the_page(site):
    """The strip's held count follows the store at once (not the 5 s cache of the status report)."""
    client, store = site
    assert "2 alert(s) are held" in client.get("/alerts").text
    with store.tx() as db:
        db.execute("UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE group_key = 'g0'", (time.time(),))
    html = client.get("/alerts").text
    assert "1 alert(s) are held" in html and html.count('data-state="held"') == 1
