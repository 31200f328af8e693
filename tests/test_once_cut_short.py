"""What a `monitor run --once` pass stopped by a signal reports as cut short is what its stages say they left, not
when the signal came: a stage that ran out of work as the signal arrived left nothing.

Regression (round 23): `Stages` called the stage in progress "cut short" whenever the stop was set by the time the
next stage began, so a signal arriving during the last send (the loop then ended on its own, nothing left due)
was reported as `cut short deliveries`, and an operator went looking for messages that had all gone. The stop is
set here from inside the fake Slack's answer to a post (its `fault_when` seam), at that exact boundary: no sleeps.
"""

from __future__ import annotations

import threading

import pytest

from monitor.runtime.daemon import App, Paths, run_once
from monitor.runtime.once import Stages
from tests.conftest import write_config
from tests.fakes.feeds import Feed, Item
from tests.fakes.slack import Call
from tests.test_daemon_signals import NEG, NOW

STORIES = [Item(f"s{i}", title, "", link=f"https://news.example/s{i}", published=NOW - 60) for i, title in enumerate([
    "Acme support is terrible, my refund was denied twice and nobody answers",
    "acme charged my card three times this month, furious, awful company",
    "the acme kettle arrived smashed and the courier was rude, useless service"])]


def _signal_at_post(fake_slack, stop: threading.Event, nth: int) -> None:
    """The stop is set while Slack handles the `nth` post (the signal arriving mid-send)."""
    def on_call(call: Call) -> None:
        if call.method == "chat.postMessage" and len(fake_slack.posts()) == nth:
            stop.set()
    fake_slack.fault_when = on_call


def _app(tmp_path, feed_server, fake_slack, items) -> App:
    feed_server.feeds["/news.xml"] = Feed(items)
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url,
                              sources=f"- id: news\n  kind: rss\n  url: {feed_server.feed_url('/news.xml')}\n")
    return App(Paths(str(cfg), str(rules)))


def test_a_signal_during_the_last_send_does_not_report_deliveries_cut_short(tmp_path, feed_server, fake_slack,
                                                                            slack_env, caplog):
    app = _app(tmp_path, feed_server, fake_slack, [NEG[0]])
    stop = threading.Event()
    _signal_at_post(fake_slack, stop, 1)
    try:
        summary = run_once(app, delivery_budget_s=10, stop=stop)
        assert app.store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state != 'sent'")["n"] == 0
    finally:
        app.close()
    assert summary["sent"] == 1 and summary["stopped"], summary
    assert summary["stages_cut_short"] == [], summary
    assert summary["stages_skipped"] == ["retention"], summary
    assert "stopped by a signal: skipped retention; the next pass does them" in caplog.text


def test_a_signal_during_a_send_with_more_due_reports_deliveries_cut_short_and_the_next_pass_sends_them_once(
        tmp_path, feed_server, fake_slack, slack_env):
    app = _app(tmp_path, feed_server, fake_slack, STORIES)
    stop = threading.Event()
    _signal_at_post(fake_slack, stop, 1)
    try:
        summary = run_once(app, delivery_budget_s=10, stop=stop)
        left = app.store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'")["n"]
        assert summary["sent"] == 1 and left >= 1, (summary, left)
        assert summary["stages_cut_short"] == ["deliveries"], summary
        assert summary["stages_skipped"] == ["retention"], summary
        fake_slack.fault_when = None
        again = run_once(app, delivery_budget_s=10)
        alerts = app.store.one("SELECT COUNT(*) AS n FROM alerts")["n"]
    finally:
        app.close()
    assert again["sent"] == left and not again["stopped"], again
    texts = [p.args["text"] for p in fake_slack.posts()]
    assert len(texts) == len(set(texts)) == alerts == 1 + left, texts


@pytest.mark.parametrize(("left", "said"), [(False, []), (True, ["routing"])])
def test_stages_name_as_cut_short_only_a_stage_that_said_it_left_work(left, said):
    stop = threading.Event()
    stages = Stages(stop)
    assert stages.runs("routing")
    stop.set()                                         # the signal, as routing's last mention is committed
    stages.ended("routing", left)
    assert not stages.runs("deliveries")
    assert stages.said(unpolled=0) == {"stages_skipped": ["deliveries"], "stages_cut_short": said}
