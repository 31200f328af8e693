"""The outbox against the local fake Slack, through the real slack_sdk WebClient."""

from __future__ import annotations

import pytest

from monitor.core.clock import FakeClock, SystemClock
from monitor.core.model import Target
from monitor.notify.outbox import Outbox, SlackSender
from monitor.notify.outcomes import MAX_BACKOFF_S
from monitor.notify.queue import enqueue
from monitor.store.database import Store
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
    from monitor.runtime.daemon import drain
    assert drain(box, SystemClock(), 10) == 4
    times = [c.at for c in fake_slack.posts()]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(g >= 0.28 for g in gaps), gaps


# -- acceptance: a bad hour, Retry-After, pacing (simulated time, real WebClient, real sockets) ------------

def _drive(box: Outbox, clock: FakeClock, until: float) -> None:
    """The daemon's loop in simulated time: send what is due, then sleep until the next thing is."""
    while clock.now() < until:
        box.run_once()
        wait = box.next_due_in()
        clock.advance(min(max(wait if wait is not None else 60.0, 0.01), until - clock.now() + 0.01))


def test_slack_down_for_an_hour_then_everything_delivered_in_order(fresh_db):
    clock: FakeClock = fresh_db.clock
    start = clock.now()
    slack = FakeSlack(clock=clock).start()
    port = slack.port
    slack.fault_when = lambda call: Fault(500) if clock.now() < start + 1800 else None
    targets = [COMMS, Target("security", "#security-incidents")]
    with fresh_db.tx() as db:
        for i in range(30):
            t = targets[i % 2]
            enqueue(db, clock.now(), f"bad-hour:{i}", "post", t, {"text": f"alert {i} for {t.channel}"})
    box = Outbox(fresh_db, SlackSender(TOKEN, slack.api_url, 2), clock, 1.0, [DEFAULT])
    _drive(box, clock, start + 1800)                    # first half hour: 500s
    slack.stop()                                        # second half hour: connection refused
    _drive(box, clock, start + 3600)
    assert fresh_db.one("SELECT COUNT(*) AS n FROM deliveries WHERE state='sent'")["n"] == 0
    attempts = fresh_db.one("SELECT MAX(attempts) AS n FROM deliveries")["n"]
    assert attempts >= 10                               # kept trying all along, backing off (≤ 5 min apart)
    with FakeSlack(port=port, clock=clock) as back:
        _drive(box, clock, start + 3600 + 400)
        for t in targets:
            texts = [c.args["text"] for c in back.posts(t.channel)]
            assert texts == [f"alert {i} for {t.channel}" for i in range(30) if targets[i % 2] == t]
        first = min(c.at for c in back.posts())
        assert first - (start + 3600) <= MAX_BACKOFF_S * 1.2 + 1     # back within one capped backoff
    assert fresh_db.one("SELECT COUNT(*) AS n FROM deliveries WHERE state='sent'")["n"] == 30


def test_retry_after_2_means_the_next_attempt_is_2s_later(fresh_db):
    clock: FakeClock = fresh_db.clock
    with FakeSlack(clock=clock) as slack:
        slack.faults.append(Fault(429, retry_after=2))
        _queue(fresh_db, 3)
        box = _outbox(fresh_db, slack, clock, interval=1.0)
        _drive(box, clock, clock.now() + 10)
        times = [c.at for c in slack.calls]
        assert len(slack.posts()) == 4 and times[1] - times[0] >= 2.0
        assert [c.args["text"] for c in slack.posts()[1:]] == ["message 0", "message 1", "message 2"]


def test_twenty_alerts_to_one_channel_go_about_one_second_apart(fresh_db):
    clock: FakeClock = fresh_db.clock
    with FakeSlack(clock=clock) as slack:
        _queue(fresh_db, 20)
        box = _outbox(fresh_db, slack, clock, interval=1.0)
        from monitor.runtime.daemon import drain
        assert drain(box, clock, 60) == 20
        times = [c.at for c in slack.posts()]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert all(1.0 <= g <= 1.1 for g in gaps), gaps
        assert [c.args["text"] for c in slack.posts()] == [f"message {i}" for i in range(20)]


def test_two_channels_are_paced_independently(fresh_db):
    clock: FakeClock = fresh_db.clock
    with FakeSlack(clock=clock) as slack:
        _queue(fresh_db, 5)
        _queue(fresh_db, 5, Target("security", "#security-incidents"))
        from monitor.runtime.daemon import drain
        assert drain(_outbox(fresh_db, slack, clock, interval=1.0), clock, 60) == 10
        assert max(c.at for c in slack.posts()) - min(c.at for c in slack.posts()) < 4.5


# -- threads and root updates -------------------------------------------------------------------------

def _root(store: Store, key: str = "root", target: Target = COMMS) -> int:
    with store.tx() as db:
        rid = enqueue(db, store.now(), key, "post", target, {"text": "root"}, None)
    assert rid
    return rid


def _child(store: Store, parent: int, kind: str, key: str, text: str, target: Target = COMMS) -> int:
    with store.tx() as db:
        rid = enqueue(db, store.now(), key, kind, target, {"text": text}, None, parent_id=parent)
    assert rid
    return rid


def test_reply_threads_under_root_and_update_edits_it(fresh_db, fake_slack):
    root = _root(fresh_db)
    _child(fresh_db, root, "post", "reply", "escalated")
    _child(fresh_db, root, "update", "upd", "root, acknowledged")
    box = _outbox(fresh_db, fake_slack)
    for _ in range(3):
        box.run_once()
    row = fresh_db.one("SELECT slack_channel, slack_ts FROM deliveries WHERE id = ?", (root,))
    reply = fake_slack.posts()[1]
    assert reply.args["thread_ts"] == row["slack_ts"] and reply.args["channel"] == row["slack_channel"]
    update = [c for c in fake_slack.calls if c.method == "chat.update"][0]
    assert update.args["ts"] == row["slack_ts"]
    assert fake_slack.messages[(row["slack_channel"], row["slack_ts"])]["text"] == "root, acknowledged"


def test_reply_and_update_wait_for_an_unsent_root(fresh_db, fake_slack):
    clock: FakeClock = fresh_db.clock
    fake_slack.faults += [Fault(500), Fault(500)]
    root = _root(fresh_db, target=Target("security", "#security-incidents"))
    # queued on another channel: only the parent's state can hold them back
    _child(fresh_db, root, "post", "reply", "escalated")
    _child(fresh_db, root, "update", "upd", "root v2")
    box = _outbox(fresh_db, fake_slack, clock)
    box.run_once()
    assert [c.method for c in fake_slack.calls] == ["chat.postMessage"]        # only the root was tried
    for _ in range(50):
        box.run_once()
        clock.advance(3)
    row = fresh_db.one("SELECT slack_ts FROM deliveries WHERE id = ?", (root,))
    assert [p.args.get("thread_ts") for p in fake_slack.posts()][-2:] == [None, row["slack_ts"]]
    assert fresh_db.one("SELECT COUNT(*) AS n FROM deliveries WHERE state='sent'")["n"] == 3
    assert fresh_db.one("SELECT MAX(attempts) AS n FROM deliveries WHERE parent_id IS NOT NULL")["n"] == 1


def test_only_the_newest_of_several_queued_updates_is_sent(fresh_db, fake_slack):
    root = _root(fresh_db)
    box = _outbox(fresh_db, fake_slack)
    box.run_once()
    for i in range(5):
        _child(fresh_db, root, "update", f"u{i}", f"v{i}")
    for _ in range(6):
        box.run_once()
    updates = [c.args["text"] for c in fake_slack.calls if c.method == "chat.update"]
    assert updates == ["v4"]
    assert fresh_db.one("SELECT COUNT(*) AS n FROM deliveries WHERE state='superseded'")["n"] == 4


def test_reply_and_update_follow_a_rerouted_root(fresh_db, fake_slack):
    fake_slack.channel_errors["#comms-alerts"] = "not_in_channel"
    root = _root(fresh_db)
    _child(fresh_db, root, "post", "reply", "escalated")
    _child(fresh_db, root, "update", "upd", "root v2")
    box = _outbox(fresh_db, fake_slack)
    for _ in range(6):
        box.run_once()
        fresh_db.clock.advance(2)
    moved = fresh_db.one("SELECT * FROM deliveries WHERE dedupe_key LIKE 'reroute:%'")
    assert moved["state"] == "sent" and moved["kind"] == "post" and moved["channel"] == "#fallback"
    reply = [p for p in fake_slack.posts() if p.args.get("thread_ts")]
    assert len(reply) == 1 and reply[0].args["thread_ts"] == moved["slack_ts"]
    msg = fake_slack.messages[(moved["slack_channel"], moved["slack_ts"])]
    assert msg["text"] == "root v2" and msg["blocks"][0]["block_id"] == "reroute-note"   # the note stays
    assert len(fake_slack.posts("#fallback")) == 2       # the rerouted root and the reply, nothing more


def test_reply_whose_root_failed_for_good_is_posted_on_its_own(fresh_db, fake_slack):
    fake_slack.channel_errors["#comms-alerts"] = "channel_not_found"
    root = _root(fresh_db)
    _child(fresh_db, root, "post", "reply", "escalated")
    _child(fresh_db, root, "update", "upd", "root v2")
    box = Outbox(fresh_db, SlackSender(TOKEN, fake_slack.api_url, 5), fresh_db.clock, 0.0, [])   # no fallback
    for _ in range(5):
        box.run_once()
    states = {r["dedupe_key"]: (r["state"], r["last_error"]) for r in fresh_db.query("SELECT * FROM deliveries")}
    assert states["root"][0] == "failed" and "no other channel" in states["root"][1]
    assert states["upd"][0] == "failed" and "never delivered" in states["upd"][1]
    assert states["reply"][0] == "failed"                 # tried on its own (unthreaded), channel still gone
    assert [p.args.get("thread_ts") for p in fake_slack.posts()] == [None, None]


def test_refused_blocks_are_resent_as_plain_text(fresh_db, fake_slack):
    fake_slack.faults.append(Fault(200, error="invalid_blocks"))
    with fresh_db.tx() as db:
        enqueue(db, fresh_db.now(), "k", "post", COMMS, {"text": "the alert", "blocks": [{"type": "bogus"}]})
    box = _outbox(fresh_db, fake_slack)
    box.run_once()
    box.run_once()
    assert not box.halted
    assert fake_slack.posts()[-1].args["text"] == "the alert" and "blocks" not in fake_slack.posts()[-1].args
    assert fresh_db.one("SELECT state FROM deliveries")["state"] == "sent"


def test_update_of_a_deleted_message_fails_alone_without_halting(fresh_db, fake_slack):
    root = _root(fresh_db)
    box = _outbox(fresh_db, fake_slack)
    box.run_once()
    fake_slack.messages.clear()                           # someone deleted the message in Slack
    _child(fresh_db, root, "update", "upd", "v2")
    _queue(fresh_db, 1)
    box.run_once()
    box.run_once()
    assert not box.halted
    assert fresh_db.one("SELECT state, last_error FROM deliveries WHERE dedupe_key='upd'")["state"] == "failed"
    assert fake_slack.posts()[-1].args["text"] == "message 0"


# -- never silently stuck -----------------------------------------------------------------------------

def test_stuck_delivery_shows_in_status_and_logs(tmp_path, caplog):
    import json
    import logging
    import os
    import subprocess
    import sys

    from tests.conftest import write_config

    cfg, rules = write_config(tmp_path, sources="[]\n")
    store = Store(tmp_path / "monitor.db", FakeClock(__import__("time").time() - 3600))
    _queue(store, 2)
    clock = SystemClock()
    with FakeSlack() as slack:
        slack.fault_when = lambda call: Fault(503)
        box = Outbox(store, SlackSender(TOKEN, slack.api_url, 2), clock, 0.0, [DEFAULT], stuck_after=900)
        with caplog.at_level(logging.WARNING):
            box.run_once()
        stuck = [r for r in caplog.records if r.getMessage() == "delivery stuck"]
        assert len(stuck) == 2 and stuck[0].levelno == logging.ERROR
        assert box.depth()["stuck"] == 2
    proc = subprocess.run([sys.executable, "-m", "monitor", "status", "--json", "--config", str(cfg), "--rules",
                           str(rules)], capture_output=True, text=True, timeout=60, env=dict(os.environ))
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["outbox"]["stuck"] is True and report["outbox"]["stuck_count"] == 2
    assert "503" in report["outbox"]["last_error"]
    text = subprocess.run([sys.executable, "-m", "monitor", "status", "--config", str(cfg), "--rules", str(rules)],
                          capture_output=True, text=True, timeout=60).stdout
    assert "STUCK: 2 pending over 15m" in text


def test_halt_is_visible_in_status(fresh_db, fake_slack):
    _queue(fresh_db, 2)
    box = _outbox(fresh_db, fake_slack, token="xoxb-revoked")
    box.run_once()
    from monitor.notify.health import health
    assert "invalid_auth" in health(fresh_db, fresh_db.now())["halted"]
