"""Incoming-webhook mode: one channel, no buttons, no threads or edits, the same outbox guarantees."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from monitor.core.clock import FakeClock
from monitor.core.model import Target
from monitor.notify.outbox import Outbox
from monitor.notify.queue import enqueue, queue_reply, queue_root_update
from monitor.notify.webhook import WebhookSender
from monitor.runtime.daemon import App, Paths, drain, run_once
from tests.alert_factory import make_alert
from tests.conftest import write_config
from tests.fakes.feeds import Feed
from tests.fakes.slack import FakeSlack, Fault
from tests.test_end_to_end import NEGATIVE


def _box(store, slack: FakeSlack, interval: float = 1.0) -> Outbox:
    return Outbox(store, WebhookSender(slack.webhook_url, 5), store.clock, interval, [])


def test_alert_goes_to_the_webhook_without_buttons(fresh_db, fake_slack):
    alert_id = make_alert(fresh_db)
    box = _box(fresh_db, fake_slack)
    assert box.run_once() == 1
    [post] = fake_slack.webhook_posts
    assert all(b["type"] != "actions" for b in post["blocks"])
    assert "Negative mention of acme" in post["text"] and "<!here>" in post["text"]
    assert "link_names" not in post and post["unfurl_links"] is False
    row = fresh_db.one("SELECT state, slack_channel FROM deliveries WHERE alert_id = ?", (alert_id,))
    assert row == {"state": "sent", "slack_channel": "webhook"}


def test_replies_are_standalone_and_updates_are_skipped(fresh_db, fake_slack):
    alert_id = make_alert(fresh_db)
    box = _box(fresh_db, fake_slack, 0.0)
    box.run_once()
    with fresh_db.tx() as db:
        queue_reply(db, fresh_db.now(), alert_id, "esc1", "Escalated: nobody acknowledged in 30m")
        queue_root_update(db, fresh_db.now(), alert_id, "ack", lambda root: {"text": "acknowledged"})
    for _ in range(3):
        box.run_once()
    assert [p["text"] for p in fake_slack.webhook_posts][1:] == ["Escalated: nobody acknowledged in 30m"]
    upd = fresh_db.one("SELECT state, last_error FROM deliveries WHERE kind = 'update'")
    assert upd["state"] == "failed" and "cannot edit" in upd["last_error"]
    assert not box.halted


def test_one_channel_means_one_lane_paced_and_in_order(fresh_db):
    clock: FakeClock = fresh_db.clock
    with FakeSlack(clock=clock) as slack:
        with fresh_db.tx() as db:
            for i in range(6):
                t = Target("o", ["#a", "#b", "@U0HEAD"][i % 3])
                enqueue(db, clock.now(), f"k{i}", "post", t, {"text": f"m{i}"})
        slack.faults.append(Fault(429, retry_after=3))
        box = _box(fresh_db, slack)
        assert drain(box, clock, 60) == 6
        texts = [c.args["text"].split("\n")[0] for c in slack.calls]
        assert texts == ["m0", "m0", "m1", "m2", "m3", "m4", "m5"]
        times = [c.at for c in slack.calls]
        assert times[1] - times[0] >= 3
        assert all(b - a >= 1.0 for a, b in zip(times[1:], times[2:], strict=False))
        # who it was for is still said, since everything lands in one channel
        assert "for #b" in json.dumps(slack.webhook_posts[1]) and "<@U0HEAD>" in json.dumps(slack.webhook_posts[2])


def test_webhook_faults(fresh_db, fake_slack):
    clock: FakeClock = fresh_db.clock
    make_alert(fresh_db)
    fake_slack.faults += [Fault(500), Fault(400, error="invalid_blocks")]
    box = _box(fresh_db, fake_slack, 0.0)
    box.run_once()                                       # 500: retried later
    clock.advance(5)
    box.run_once()                                       # 400 invalid_blocks: resent as plain text
    box.run_once()
    assert fake_slack.webhook_posts and "blocks" not in fake_slack.webhook_posts[0]
    make_alert(fresh_db)
    fake_slack.faults.append(Fault(404, error="no_service"))      # the webhook was removed
    box.run_once()
    box.run_once()
    assert box.halted and "no_service" in box.halted
    assert fresh_db.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'")["n"] == 1


def test_cli_run_once_in_webhook_mode(tmp_path, feed_server, fake_slack, monkeypatch):
    feed_server.feeds["/news.xml"] = Feed([NEGATIVE])
    cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, slack_mode="webhook", sources=f"""\
        - id: news
          kind: rss
          url: {feed_server.feed_url('/news.xml')}
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["SLACK_WEBHOOK_URL"] = fake_slack.webhook_url
    proc = subprocess.run([sys.executable, "-m", "monitor", "run", "--once", "--config", str(cfg), "--rules",
                           str(rules)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(fake_slack.webhook_posts) == 1 and fake_slack.posts() == []
    assert "fakewebhooksecret" not in proc.stderr
    monkeypatch.setenv("SLACK_WEBHOOK_URL", fake_slack.webhook_url)
    app = App(Paths(str(cfg), str(rules)))
    try:
        assert run_once(app, delivery_budget_s=1)["sent"] == 0          # nothing twice
    finally:
        app.close()
