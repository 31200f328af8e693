"""A `monitor run --once` pass stopped by SIGTERM after its polls: it goes at once, names what it left, and the
next pass does that exactly once.

Regression (round 23): a signal after the polls ended only the deliveries early; the stream catch-up ran on to
its `once_budget`, then routing, replies and the daily retention ran as if nothing had happened, so a cron job
stopped at a deploy (systemd: SIGTERM, then SIGKILL after TimeoutStopSec) outlived its stop or was killed
mid-retention. Now the stream ends at the signal (what it read is stored with its cursor), the stages not
begun are skipped and named in the log and the summary, the pass exits 0, and the next pass resumes the
stream from that cursor and sends every alert once.
"""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from tests.conftest import write_config
from tests.fakes.feeds import Feed
from tests.fakes.jetstream import FakeJetstream
from tests.fakes.process import MonitorProcess
from tests.fakes.slack import TOKEN
from tests.test_daemon_signals import NEG, _wait

pytestmark = pytest.mark.slow
DRAIN_S = 3.0
POSTS = 12


def _rows(tmp_path, sql: str) -> list[sqlite3.Row]:
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        db.row_factory = sqlite3.Row
        return list(db.execute(sql))


def _once(cfg, rules) -> MonitorProcess:
    return MonitorProcess(["run", "--once", "--config", str(cfg), "--rules", str(rules)],
                          env={"SLACK_BOT_TOKEN": TOKEN})


def test_sigterm_after_the_polls_skips_what_can_wait_and_the_next_pass_does_it_once(tmp_path, feed_server,
                                                                                   fake_slack):
    feed_server.feeds["/news.xml"] = Feed([])
    with FakeJetstream() as js:
        sources = (f"- id: news\n  kind: rss\n  url: {feed_server.feed_url('/news.xml')}\n"
                   f"- id: bsky\n  kind: jetstream\n  url: {js.url}\n  rewind: 0s\n  batch_size: 1\n  cursor_every: 50ms\n"
                   "  once_budget: 60s\n")
        cfg, rules = write_config(tmp_path, sources=sources, slack_url=fake_slack.api_url,
                                  extra=f"daemon:\n  drain_timeout: {DRAIN_S:g}s\n")
        config = cfg.read_text()
        # the first pass marks where the stream starts; it does not prune, so retention is due in the stopped one
        cfg.write_text(config.replace("storage:\n", "storage:\n  retention: null\n"))
        with _once(cfg, rules) as first:
            assert first.wait(timeout=60) == 0, first.log()
        cfg.write_text(config)

        feed_server.feeds["/news.xml"] = Feed(NEG)
        now_us = int(time.time() * 1_000_000)
        for n in range(POSTS):     # after the first pass's mark, before the next pass starts
            js.add_post(f"acme support is terrible, refund denied, order {n} lost", rkey=f"k{n}",
                        time_us=now_us - (POSTS - n) * 1_000)
        js.add_post("just a day at the beach", rkey="later", time_us=now_us + 3_600_000_000)  # ends a catch-up
        js.pace = 0.5                                        # the catch-up would take 6 s
        with _once(cfg, rules) as stopped:
            _wait(lambda: js.frames_sent >= 3, what="the polls done and the stream catching up")
            log = stopped.stop_within(DRAIN_S, 1.5, "a pass stopped by SIGTERM")
        assert "skipped routing, responders, deliveries, retention; cut short streams; the next pass does them" \
            in log, log
        assert "stopped by a signal: skipped routing, responders, deliveries, retention; cut short streams, left" \
            " to the next pass; every lease was let go" in log, log
        assert fake_slack.posts() == [], "deliveries were skipped"
        assert _rows(tmp_path, "SELECT job FROM maintenance WHERE job = 'retention'") == [], "retention was skipped"
        (row,) = _rows(tmp_path, "SELECT cursor FROM sources WHERE id = 'bsky'")
        cursor = json.loads(row["cursor"])
        read = len(_rows(tmp_path, "SELECT id FROM mentions WHERE source_id = 'bsky'"))
        assert 1 <= read < POSTS, read                       # cut short, and what it read is stored...
        assert cursor >= now_us - (POSTS - read + 1) * 1_000   # ...up to its cursor

        js.pace = 0.0
        with _once(cfg, rules) as nxt:
            assert nxt.wait(timeout=60) == 0, nxt.log()
        assert js.connections[-1].query.get("cursor") == str(cursor), "resumed where the stopped pass stopped"
        assert "stopped by a signal" not in nxt.log()
    ids = [r["external_id"] for r in _rows(tmp_path, "SELECT external_id FROM mentions")]
    assert len(ids) == len(set(ids)) == POSTS + len(NEG), ids
    assert _rows(tmp_path, "SELECT job FROM maintenance WHERE job = 'retention'")
    alerts = len(_rows(tmp_path, "SELECT id FROM alerts"))
    assert {r["state"] for r in _rows(tmp_path, "SELECT state FROM deliveries")} == {"sent"}
    texts = [p.args["text"] for p in fake_slack.posts()]
    assert alerts >= 2 and len(texts) == alerts and len(set(texts)) == len(texts), texts
