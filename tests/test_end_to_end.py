"""One mention from a feed to the right Slack channel, through the real pipeline, real WebClient, real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.runtime.daemon import App, Paths, run_once
from tests.conftest import write_config
from tests.fakes.feeds import Feed, FeedServer, Item
from tests.fakes.slack import TOKEN, FakeSlack

pytestmark = pytest.mark.usefixtures("backend")     # each test on SQLite and on PostgreSQL

NOW = time.time()
NEGATIVE = Item("n1", "Acme support is terrible",
                "Waited for hours, the agent was rude and useless. Awful. &lt;!channel&gt; &lt;@U123&gt;",
                link="https://news.example/acme-bad", author="Jane <jane@example.com>", published=NOW - 60)
POSITIVE = Item("p1", "I love my new Acme blender", "Great product, wonderful support!",
                link="https://news.example/acme-good", published=NOW - 60)
UNRELATED = Item("u1", "Terrible weather today", "Awful rain, hate it.", published=NOW - 60)


def _app(tmp_path: Path, feeds: FeedServer, slack: FakeSlack) -> App:
    cfg, rules = write_config(tmp_path, slack_url=slack.api_url, sources=f"""\
        - id: news
          kind: rss
          url: {feeds.feed_url('/news.xml')}
          every: 5m
    """)
    return App(Paths(str(cfg), str(rules)))


def test_negative_mention_reaches_routed_channel_once(tmp_path, feed_server, fake_slack, slack_env):
    feed_server.feeds["/news.xml"] = Feed([NEGATIVE, POSITIVE, UNRELATED])
    app = _app(tmp_path, feed_server, fake_slack)
    try:
        first = run_once(app, delivery_budget_s=10)
        assert first["new_mentions"] == 3
        posts = fake_slack.posts()
        assert len(posts) == 1, [p.args.get("text") for p in posts]
        post = posts[0]
        assert post.args["channel"] == "#comms-alerts"
        assert post.token == TOKEN
        assert "Acme support is terrible" in post.args["text"]
        blocks = str(post.args["blocks"])
        assert "&lt;!channel&gt; &lt;@U123&gt;" in blocks                  # collected text escaped
        assert "<!channel>" not in blocks and "<@U123>" not in blocks and "<!channel>" not in post.args["text"]
        assert "link_names" not in post.args

        stored = app.store.query("SELECT external_id, status, negative FROM mentions ORDER BY id")
        assert [(r["external_id"], r["status"]) for r in stored] == [
            ("n1", "routed"), ("p1", "matched"), ("u1", "unmatched")]
        delivery = app.store.one("SELECT * FROM deliveries")
        assert delivery["state"] == "sent" and delivery["slack_ts"] and delivery["slack_channel"].startswith("C")

        second = run_once(app, delivery_budget_s=5)                         # same feed again
        assert second["new_mentions"] == 0
        assert len(fake_slack.posts()) == 1
        assert feed_server.not_modified["/news.xml"] == 1                   # conditional GET answered 304
    finally:
        app.close()


def test_new_item_on_later_poll_is_sent(tmp_path, feed_server, fake_slack, slack_env):
    feed_server.feeds["/news.xml"] = Feed([POSITIVE])
    app = _app(tmp_path, feed_server, fake_slack)
    try:
        run_once(app, delivery_budget_s=5)
        assert fake_slack.posts() == []
        feed_server.feeds["/news.xml"] = Feed([POSITIVE, NEGATIVE])
        run_once(app, delivery_budget_s=5)
        assert len(fake_slack.posts("#comms-alerts")) == 1
    finally:
        app.close()


def test_cli_run_once_end_to_end(tmp_path, feed_server, fake_slack):
    feed_server.feeds["/news.xml"] = Feed([NEGATIVE, POSITIVE])
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """)
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN}
    cmd = [sys.executable, "-m", "monitor", "run", "--once", "--config", str(cfg), "--rules", str(rules)]
    for _ in range(2):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
    assert len(fake_slack.posts()) == 1
    assert TOKEN not in proc.stderr


def test_without_token_alerts_print_to_terminal(tmp_path, feed_server, monkeypatch):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    feed_server.feeds["/news.xml"] = Feed([NEGATIVE])
    cfg, rules = write_config(tmp_path, sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """)
    proc = subprocess.run([sys.executable, "-m", "monitor", "run", "--once", "--config", str(cfg), "--rules",
                           str(rules)], capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "SLACK_BOT_TOKEN"})
    assert proc.returncode == 0, proc.stderr
    assert "Slack → #comms-alerts" in proc.stdout
    assert "Acme support is terrible" in proc.stdout
    assert "[Acknowledge]" in proc.stdout
