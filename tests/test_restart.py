"""kill -9 the daemon in the middle of a poll (an X search stalled on its second page); after a restart
every mention is stored exactly once and no Slack message is sent twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import write_config
from tests.fakes.feeds import Feed, Item
from tests.fakes.slack import TOKEN
from tests.fakes.twitter import BEARER, FakeX, Tweet

N_TWEETS = 250                  # three pages of 100


def _wait(cond, timeout=30.0, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _count(db_path, sql):
    try:
        with sqlite3.connect(db_path, timeout=5) as db:
            row = db.execute(sql).fetchone()
            return row[0] if row else None
    except sqlite3.OperationalError:
        return -1


@pytest.mark.slow
def test_kill_9_mid_poll_loses_nothing_and_stores_nothing_twice(tmp_path, feed_server, fake_slack):
    now = time.time()
    feed_server.feeds["/news.xml"] = Feed([Item(f"n{i}", f"Acme news {i}: awful outage, refund denied",
                                                published=now - 60) for i in range(5)])
    with FakeX() as x:
        # The first poll reads one page only (X bills each read), so the paged poll that gets killed is a
        # later one, from the since_id the first poll saved.
        x.add(Tweet(1, "acme post 1", created_at=now - 60))
        cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=f"""\
            - id: news
              kind: rss
              url: {feed_server.feed_url('/news.xml')}
              every: 10s
            - id: x-acme
              kind: twitter
              query: acme
              api_url: {x.api_url}
              every: 10s
        """, extra="# fast local polling\n  per_host_interval: 0\n")
        db = tmp_path / "monitor.db"
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "TWITTER_BEARER_TOKEN": BEARER}
        cmd = [sys.executable, "-m", "monitor", "run", "--config", str(cfg), "--rules", str(rules)]

        daemon = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait(lambda: _count(db, "SELECT cursor FROM sources WHERE id='x-acme'") == '{"since_id":"1"}',
                  what="the first poll's cursor")
            x.stall_page = 1
            x.add(*[Tweet(i, f"acme post {i}" + (" terrible support, never again" if i % 50 == 0 else ""),
                          created_at=now - 60) for i in range(2, N_TWEETS + 1)])
            _wait(lambda: any("next_token=p1" in r.query for r in x.requests), what="the stalled second page")
            _wait(lambda: _count(db, "SELECT COUNT(*) FROM mentions WHERE source_id='news'") == 5,
                  what="the feed's mentions")
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(10)
        finally:
            if daemon.poll() is None:
                daemon.kill()
        assert _count(db, "SELECT COUNT(*) FROM mentions WHERE source_id='x-acme'") == 1   # page 1 not kept alone
        assert _count(db, "SELECT cursor FROM sources WHERE id='x-acme'") == '{"since_id":"1"}'

        x.stall_page = None
        daemon = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait(lambda: _count(db, "SELECT COUNT(*) FROM mentions WHERE source_id='x-acme'") == N_TWEETS,
                  what="every post after the restart")
            _wait(lambda: _count(db, "SELECT COUNT(*) FROM deliveries WHERE state='pending'") == 0
                  and _count(db, "SELECT COUNT(*) FROM mentions WHERE processed_at IS NULL") == 0
                  and _count(db, "SELECT COUNT(*) FROM alerts WHERE notified_at IS NULL AND state != 'resolved'") == 0
                  and _count(db, "SELECT COUNT(*) FROM deliveries") > 0,
                  what="routing and delivery to finish")
            time.sleep(1.5)                                      # at least one more poll of each source
        finally:
            daemon.send_signal(signal.SIGTERM)
            _, err = daemon.communicate(timeout=30)
        assert "Traceback" not in err
    assert _count(db, "SELECT COUNT(*) FROM mentions") == N_TWEETS + 5
    assert _count(db, "SELECT COUNT(DISTINCT source_id || '/' || external_id) FROM mentions") == N_TWEETS + 5
    sent = _count(db, "SELECT COUNT(*) FROM deliveries WHERE state='sent'")
    assert sent >= 1 and len(fake_slack.posts()) == sent          # nothing sent twice
    assert _count(db, "SELECT cursor FROM sources WHERE id='x-acme'") == f'{{"since_id":"{N_TWEETS}"}}'
