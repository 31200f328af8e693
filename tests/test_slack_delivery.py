"""The outbox against the local fake Slack, through the real slack_sdk WebClient."""

from __future__ import annotations

import pytest

from monitor.alerts import enqueue
from monitor.clock import FakeClock, SystemClock
from monitor.delivery import Outbox, SlackSender
from monitor.model import Target
from monitor.storage import Store
from tests.fakes.slack import TOKEN, FakeSlack, Fault

COMMS = Target("comms-oncall", "#comms-alerts")
DEFAULT = Target("default", "#fallback")


def _queue(store: Store, n: int, target: Target = COMMS) -> None:
    with store.tx() as db:
        for i in range(n):
            enqueue(db, store.now(), f"t:{target.channel}:{i}", "post", target, {"text": f"message {i}"})


def _outbox(store: Store, slack: FakeSlack, clock=None, token: str = TOKEN, interval: float = 0.0) -> Outbox:
    return Outbox(store, SlackSender(token, slack.api_url, timeout=5), clock or store.clock, interval, [DEFAULT])


def test_sent_rows_record_channel_and_ts(fresh_db, fake_slack):
    _queue(fresh_db, 2)
    box = _outbox(fresh_db, fake_slack)
    assert box.run_once() == 1            # one per channel per pass keeps order
    assert box.run_once() == 1
    rows = fresh_db.query("SELECT state, slack_channel, slack_ts FROM deliveries ORDER BY id")
    assert all(r["state"] == "sent" and r["slack_channel"].startswith("C") and r["slack_ts"] for r in rows)
    assert [c.args["text"] for c in fake_slack.posts()] == ["message 0", "message 1"]


def test_429_waits_for_retry_after(fresh_db, fake_slack):
    clock: FakeClock = fresh_db.clock
    fake_slack.faults.append(Fault(429, retry_after=2))
    _queue(fresh_db, 1)
    box = _outbox(fresh_db, fake_slack, clock)
    assert box.run_once() == 0
    clock.advance(1.9)
    assert box.run_once() == 0 and len(fake_slack.calls) == 1     # not retried before Retry-After
    clock.advance(0.2)
    assert box.run_once() == 1 and len(fake_slack.calls) == 2


def test_5xx_retries_with_backoff_then_delivers_in_order(fresh_db, fake_slack):
    clock: FakeClock = fresh_db.clock
    fake_slack.faults += [Fault(500), Fault(503), Fault(200, error="internal_error")]
    _queue(fresh_db, 3)
    box = _outbox(fresh_db, fake_slack, clock)
    for _ in range(200):
        box.run_once()
        clock.advance(5)
    assert [c.args["text"] for c in fake_slack.posts()][-3:] == ["message 0", "message 1", "message 2"]
    assert fresh_db.one("SELECT COUNT(*) AS n FROM deliveries WHERE state='sent'")["n"] == 3


def test_connection_refused_is_retried(fresh_db):
    clock: FakeClock = fresh_db.clock
    slack = FakeSlack()
    slack.start()
    port = slack.port
    slack.stop()                                      # nothing listens: connection refused
    _queue(fresh_db, 1)
    box = Outbox(fresh_db, SlackSender(TOKEN, f"http://127.0.0.1:{port}/api/", 2), clock, 0.0, [DEFAULT])
    assert box.run_once() == 0
    row = fresh_db.one("SELECT * FROM deliveries")
    assert row["state"] == "pending" and row["attempts"] == 1 and row["not_before"] > clock.now()
    with FakeSlack(port=port) as back:
        clock.advance(10)
        assert box.run_once() == 1
        assert len(back.posts()) == 1


def test_channel_not_found_goes_to_default_owner_once(fresh_db, fake_slack):
    fake_slack.channel_errors["#comms-alerts"] = "channel_not_found"
    _queue(fresh_db, 1)
    box = _outbox(fresh_db, fake_slack)
    for _ in range(3):
        box.run_once()
    fallback = fake_slack.posts("#fallback")
    assert len(fallback) == 1 and "channel_not_found" in fallback[0].args["text"]
    assert fresh_db.one("SELECT state FROM deliveries WHERE channel='#comms-alerts'")["state"] == "failed"


def test_invalid_auth_halts_without_retry_storm(fresh_db, fake_slack):
    _queue(fresh_db, 3)
    box = _outbox(fresh_db, fake_slack, token="xoxb-wrong-token")
    for _ in range(5):
        box.run_once()
    assert len(fake_slack.calls) == 1
    assert box.halted and "invalid_auth" in box.halted
    assert fresh_db.one("SELECT COUNT(*) AS n FROM deliveries WHERE state='pending'")["n"] == 3


@pytest.mark.slow
def test_per_channel_pacing_real_time(tmp_path, fake_slack):
    store = Store(tmp_path / "db.sqlite", SystemClock())
    _queue(store, 4)
    box = _outbox(store, fake_slack, SystemClock(), interval=0.3)
    from monitor.daemon import drain
    assert drain(box, SystemClock(), 10) == 4
    times = [c.at for c in fake_slack.posts()]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(g >= 0.28 for g in gaps), gaps
