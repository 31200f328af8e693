"""Source health through the real poller: backoff with jitter, alerts after N failures and on recovery,
401/403 disabling until the credentials change, 429 rescheduling at the server's reset time."""

from __future__ import annotations

import json
import random

import pytest

from monitor.core.clock import FakeClock
from monitor.runtime.daemon import App, Paths
from tests.conftest import write_config
from tests.fakes.feeds import Feed, Item
from tests.fakes.server import Reply
from tests.fakes.twitter import BEARER, FakeX, Tweet

START = 1_800_000_000.0


@pytest.fixture
def app(tmp_path, feed_server):
    clock = FakeClock(START)
    cfg, rules = write_config(tmp_path, sources=f"""\
        - id: feed
          kind: rss
          url: {feed_server.feed_url('/f.xml')}
          every: 5m
          failure_alert_after: 3
    """, extra="# tests poll one host fast\n  per_host_interval: 0\n")
    a = App(Paths(str(cfg), str(rules)), clock=clock)
    a.poller.rng = random.Random(7)
    yield a
    a.close()


def _notices(app):
    return [json.loads(r["payload"])["text"] for r in
            app.store.query("SELECT payload FROM deliveries WHERE kind = 'notice' ORDER BY id")]


def _row(app, sid="feed"):
    return app.store.one("SELECT * FROM sources WHERE id = ?", (sid,))


def test_backoff_grows_with_jitter_then_alerts_once_and_on_recovery(app, feed_server):
    feed_server.feeds["/f.xml"] = Feed(reply=Reply(500, b"down"))
    clock = app.clock
    assert app.poll("feed").error == "HTTP 500 from " + feed_server.url.split("//")[1]
    assert _row(app)["next_run"] is None                        # first failure: the regular schedule
    waits = []
    for failures in range(2, 6):
        assert not app.poll("feed").ok
        row = _row(app)
        wait = row["next_run"] - clock.now()
        base = 300 * 2 ** (failures - 1)
        assert 0.8 * base <= wait <= 1.2 * base, (failures, wait)
        waits.append(wait / base)
        assert app.poll("feed").skipped.startswith("backing off until ")       # not before its time
        clock.advance(wait + 1)
    assert len(set(waits)) > 1                                 # jittered, not lockstep
    assert _row(app)["consecutive_failures"] == 5
    notices = _notices(app)
    assert len(notices) == 1 and "failed 3 polls in a row" in notices[0] and "HTTP 500" in notices[0]
    feed_server.feeds["/f.xml"] = Feed([Item("a1", "Acme ok")])
    assert app.poll("feed").ok
    notices = _notices(app)
    assert len(notices) == 2 and "has recovered after 5 failed polls" in notices[1]
    assert _row(app)["consecutive_failures"] == 0 and _row(app)["next_run"] is None
    targets = app.store.query("SELECT channel FROM deliveries WHERE kind = 'notice'")
    assert {t["channel"] for t in targets} == {"#comms-alerts"}     # the default owner


def test_429_reschedules_at_the_reset_time(app, feed_server):
    feed_server.feeds["/f.xml"] = Feed(reply=Reply(429, b"", {"Retry-After": "900"}))
    app.poll("feed")
    assert _row(app)["next_run"] == pytest.approx(START + 900, abs=1)
    app.clock.advance(600)
    assert app.poll("feed").skipped.startswith("backing off until ")
    feed_server.feeds["/f.xml"] = Feed([Item("a1", "Acme")])
    app.clock.advance(301)
    assert app.poll("feed").ok


def test_429_without_reset_backs_off(app, feed_server):
    feed_server.feeds["/f.xml"] = Feed(reply=Reply(429, b""))
    app.poll("feed")
    app.poll("feed")
    wait = _row(app)["next_run"] - app.clock.now()
    assert 0.8 * 600 <= wait <= 1.2 * 600


def test_partial_result_is_ok_with_the_reason_kept(app, feed_server):
    feed_server.feeds["/f.xml"] = Feed(raw=b"<rss version='2.0'><channel><item><guid>p1</guid><title>Acme</title>"
                                           b"</item><item><title>cut")
    out = app.poll("feed")
    assert out.ok and out.partial and "malformed" in _row(app)["last_error"]


@pytest.fixture
def x_app(tmp_path, monkeypatch):
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", "wrong-token-000")
    with FakeX() as x:
        cfg, rules = write_config(tmp_path, sources=f"""\
            - id: x-acme
              kind: twitter
              query: acme
              api_url: {x.api_url}
        """)
        a = App(Paths(str(cfg), str(rules)), clock=FakeClock(START))
        yield a, x
        a.close()


def test_refused_token_disables_until_it_changes(x_app, monkeypatch):
    app, x = x_app
    x.add(Tweet(1, "acme"))
    out = app.poll("x-acme")
    assert "401" in out.error
    row = _row(app, "x-acme")
    assert row["disabled_reason"] and row["disabled_fingerprint"]
    notices = _notices(app)
    assert len(notices) == 1 and "is disabled until its credentials" in notices[0]
    requests = len(x.requests)
    app.clock.advance(86400)
    assert app.poll("x-acme").skipped.startswith("disabled:")       # same token: not retried, however late
    assert len(x.requests) == requests
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", BEARER)               # ops fix the token (and restart)
    assert app.poll("x-acme").ok
    row = _row(app, "x-acme")
    assert row["disabled_reason"] is None and row["consecutive_failures"] == 0
    assert "has recovered" in _notices(app)[-1]
    assert app.store.one("SELECT external_id FROM mentions")["external_id"] == "1"


def test_rate_limited_x_source_waits_for_x_rate_limit_reset(x_app, monkeypatch):
    app, x = x_app
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", BEARER)
    x.remaining, x.reset_at = 0, int(START) + 777
    app.poll("x-acme")
    assert _row(app, "x-acme")["next_run"] == START + 777
