"""Cron mode's run lock: an overlapping `monitor run --once` exits at once, says why, and fails."""

from __future__ import annotations

import signal

from monitor.runtime.daemon import App, Paths, run_once
from tests.conftest import write_config
from tests.fakes.feeds import Feed
from tests.fakes.process import MonitorProcess
from tests.fakes.slack import TOKEN
from tests.test_daemon_signals import NEG, POS, _wait, trickle
from tests.timing import Stopwatch


def _cfg(tmp_path, feed_server, fake_slack):
    return write_config(tmp_path, slack_url=fake_slack.api_url, sources=f"""\
        - id: slow
          kind: rss
          url: {feed_server.feed_url('/slow.xml')}
    """)


def _once(cfg, rules) -> list[str]:
    return ["run", "--once", "--config", str(cfg), "--rules", str(rules)]


def test_overlapping_once_exits_at_once_with_a_message_and_status_1(tmp_path, feed_server, fake_slack):
    feed_server.feeds["/slow.xml"] = Feed(reply=trickle(Feed([NEG[0], POS]), pieces=10, delay=0.8))
    cfg, rules = _cfg(tmp_path, feed_server, fake_slack)
    env = {"SLACK_BOT_TOKEN": TOKEN}
    with MonitorProcess(_once(cfg, rules), env=env) as first:
        _wait(lambda: feed_server.hits.get("/slow.xml", 0) >= 1, what="the first run to be polling")
        with Stopwatch() as sw, MonitorProcess(_once(cfg, rules), env=env) as second:
            rc = second.wait(timeout=60)
        assert rc == 1
        # it did not wait for the lock: it is done while the first run (8 s of polling) still works, and in
        # the time Python takes to start and refuse (6 s on an idle machine, scaled by the load around it)
        assert first.proc and first.proc.poll() is None, "the second run waited for the first"
        sw.assert_within(0.0, 6.0, "the second run")
        message = second.log()
        assert "held by pid" in message and str(first.pid) in message and "exits without doing anything" in message
        assert first.proc and first.proc.poll() is None, "the first run is not disturbed"
        assert first.wait(timeout=60) == 0, first.log()
    assert feed_server.hits["/slow.xml"] == 1, "the second run polled nothing"
    assert len(fake_slack.posts()) == 1


def test_once_refuses_to_run_beside_the_daemon(tmp_path, feed_server, fake_slack):
    feed_server.feeds["/slow.xml"] = Feed([POS])
    cfg, rules = _cfg(tmp_path, feed_server, fake_slack)
    env = {"SLACK_BOT_TOKEN": TOKEN}
    with MonitorProcess(["run", "--config", str(cfg), "--rules", str(rules)], env=env) as daemon:
        daemon.wait_for("daemon started")
        with MonitorProcess(_once(cfg, rules), env=env) as once:
            assert once.wait(timeout=30) == 1
        assert "held by pid" in once.log()
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0


def test_a_killed_run_leaves_no_stale_lock(tmp_path, feed_server, fake_slack):
    feed_server.feeds["/slow.xml"] = Feed(reply=trickle(Feed([NEG[0]]), pieces=8, delay=0.5))
    cfg, rules = _cfg(tmp_path, feed_server, fake_slack)
    env = {"SLACK_BOT_TOKEN": TOKEN}
    with MonitorProcess(_once(cfg, rules), env=env) as first:
        _wait(lambda: feed_server.hits.get("/slow.xml", 0) >= 1, what="the first run to be polling")
        first.signal(signal.SIGKILL)
        first.wait(timeout=10)
    feed_server.feeds["/slow.xml"] = Feed([NEG[0]])
    with MonitorProcess(_once(cfg, rules), env=env) as second:
        assert second.wait(timeout=60) == 0, second.log()
    assert len(fake_slack.posts()) == 1                     # and the killed run's work was redone once


def test_one_pass_does_all_due_work(tmp_path, feed_server, fake_slack, slack_env):
    """Polls, routes, delivers, and runs the daily retention, then returns."""
    feed_server.feeds["/slow.xml"] = Feed([NEG[0], POS])
    cfg, rules = _cfg(tmp_path, feed_server, fake_slack)
    app = App(Paths(str(cfg), str(rules)))
    try:
        summary = run_once(app, delivery_budget_s=10)
        assert summary == {"polled": 1, "failed": 0, "new_mentions": 2, "sent": 1, "streams": 0, "held": 0,
                           "skipped": {}, "taken": 0, "actions": 0, "replies": 0, "stopped": False,
                           "cron_interval": None}
        assert app.store.one("SELECT state FROM deliveries")["state"] == "sent"
        assert app.store.one("SELECT job FROM maintenance WHERE job = 'retention'")
    finally:
        app.close()
