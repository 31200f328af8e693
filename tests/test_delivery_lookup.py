"""At most once when the outcome is unknown: the lookup of a delivery in flight has three answers.

A delivery whose answer never came (a timeout, a kill between Slack's ok and our commit) is looked for in the
channel's history, only since it went in flight (`oldest=`), with the real slack_sdk client against the fake
Slack. Found: recorded, not posted. Read to the end and not there: posted. Could not read to the end (a 5xx or a
429 mid-lookup, too many pages): "cannot tell", so it waits and is looked for again, said in the log and in
`monitor status`; after an hour of that, "nothing lost" wins once, and never a third time.

Regression (each test): `find_posted` said "not posted" after 10 pages of 200, so an alert in flight in a busy
channel was posted twice; a 429 mid-lookup cleared the in-flight mark, so it was posted again blind.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from monitor.core.clock import FakeClock
from monitor.core.model import Target
from monitor.notify.inflight import LOOKUP_WINDOW_S
from monitor.notify.outbox import Outbox, SlackSender
from monitor.notify.queue import enqueue
from monitor.notify.senders import LOOKBACK_MARGIN_S
from monitor.ops.checks import outbox_health
from monitor.store.database import Store
from tests.fakes.slack import TOKEN, Call, FakeSlack, Fault

COMMS = Target("comms-oncall", "#comms-alerts")


class Crash(BaseException):
    """The process dies right after Slack answered, before the commit (what a kill -9 there leaves)."""


def _outbox(store: Store, slack: FakeSlack) -> Outbox:
    return Outbox(store, SlackSender(TOKEN, slack.api_url, timeout=5), store.clock, 0.0)


def _post_and_die(store: Store, slack: FakeSlack) -> None:
    """Slack has the message; our record of it does not exist: the row is left in flight."""
    box = _outbox(store, slack)

    def die(*a: Any) -> None:
        raise Crash()

    box._write_sent = die            # type: ignore[method-assign]
    with pytest.raises(Crash):
        box.run_once()


def _queue_one(store: Store, key: str = "lookup:1") -> None:
    with store.tx() as db:
        enqueue(db, store.now(), key, "post", COMMS, {"text": "alert one"})


def _row(store: Store) -> dict[str, Any]:
    return store.one("SELECT * FROM deliveries ORDER BY id LIMIT 1")


def _history(slack: FakeSlack) -> list[Call]:
    return [c for c in slack.calls if c.method == "conversations.history"]


def _drive(box: Outbox, clock: FakeClock, seconds: float, step: float = 30.0) -> None:
    end = clock.now() + seconds
    while clock.now() < end:
        box.run_once()
        clock.advance(step)


def test_a_busy_channel_is_paged_back_to_the_delivery_and_the_post_found(tmp_path):
    """2,100 messages after ours (11 pages) and 3,000 from before it went in flight: found on page 11, the
    older ones never read. Before: "not posted" after 10 pages, and the alert went out twice."""
    clock = FakeClock()
    store = Store(tmp_path / "m.db", clock)
    with FakeSlack(clock=clock) as slack:
        slack.chatter("#comms-alerts", 3000)                     # the channel's past: not ours to page through
        clock.advance(2 * 3600)
        _queue_one(store)
        _post_and_die(store, slack)
        in_flight_at = _row(store)["in_flight_at"]
        assert len(slack.posts()) == 1 and in_flight_at is not None
        clock.advance(20)
        slack.chatter("#comms-alerts", 2100)                     # a busy channel since
        clock.advance(20)
        _drive(_outbox(store, slack), clock, 60, step=5)
        assert len(slack.posts()) == 1, "posted twice"
        row = _row(store)
        ours = [ts for ts in (m["ts"] for m in slack.messages.values() if m.get("metadata"))]
        assert row["state"] == "sent" and [row["slack_ts"]] == ours
        history = _history(slack)
        assert len(history) == 11, len(history)                 # 2,101 messages since, 200 a page
        assert all(float(c.args["oldest"]) >= in_flight_at - LOOKBACK_MARGIN_S for c in history)


def test_slack_erring_mid_lookup_does_not_post_again_and_says_so(tmp_path, caplog):
    """A 500 on page 2, then a 429 with Retry-After on page 2: not posted, said in the log and in `monitor status`
    with the reason, looked for again after Retry-After, then found. Before: the 429 cleared the in-flight mark
    and the alert was posted again blind."""
    clock = FakeClock()
    store = Store(tmp_path / "m.db", clock)
    with FakeSlack(clock=clock) as slack:
        _queue_one(store)
        _post_and_die(store, slack)
        slack.chatter("#comms-alerts", 500)                      # 3 pages to read
        faults = [Fault(500), Fault(429, retry_after=120)]

        def mid_lookup(call: Call) -> Fault | None:
            if call.method == "conversations.history" and call.args.get("cursor") and faults:
                return faults.pop(0)
            return None

        slack.fault_when = mid_lookup
        box = _outbox(store, slack)
        clock.advance(70)
        with caplog.at_level(logging.WARNING):
            box.run_once()
        assert len(slack.posts()) == 1
        row = _row(store)
        assert row["state"] == "pending" and row["in_flight_at"] is not None
        assert "not confirmed in Slack" in row["last_error"] and "HTTP 500" in row["last_error"]
        assert any(r.levelno == logging.WARNING and "not confirmed in Slack" in str(getattr(r, "error", ""))
                   for r in caplog.records)
        said = outbox_health(store, clock.now())
        assert "delivery_unrecorded" in said["problem_kinds"]
        assert any("HTTP 500" in p and "history cannot be read" in p for p in said["problems"]), said["problems"]

        _drive(box, clock, 60, step=5)                           # the next look meets the 429
        assert not faults and len(slack.posts()) == 1
        limited = max(c.at for c in _history(slack) if c.args.get("cursor"))
        assert "Retry-After 120" in _row(store)["last_error"]
        _drive(box, clock, 300, step=5)
        after = [c.at for c in _history(slack) if c.at > limited]
        assert after and min(after) >= limited + 120             # Slack's Retry-After was honoured
        assert len(slack.posts()) == 1 and _row(store)["state"] == "sent"
        assert outbox_health(store, clock.now())["problems"] == []


def test_a_history_that_stays_unreadable_posts_once_more_after_an_hour_never_a_third_time(tmp_path, caplog):
    """Cannot tell for LOOKUP_WINDOW_S: "nothing lost" wins once (posted again, WARNING "may appear twice");
    that post's outcome unknown too and still uncheckable an hour on: failed with the reason, no third copy.
    Before: it was never posted again, however long the history stayed unreadable."""
    clock = FakeClock()
    store = Store(tmp_path / "m.db", clock)
    with FakeSlack(clock=clock) as slack:
        _queue_one(store)
        _post_and_die(store, slack)
        slack.fault_when = lambda call: Fault(503) if call.method == "conversations.history" else None
        box = _outbox(store, slack)
        with caplog.at_level(logging.WARNING):
            _drive(box, clock, LOOKUP_WINDOW_S - 120)
        assert len(slack.posts()) == 1 and _row(store)["state"] == "pending"
        assert len(_history(slack)) >= 10                        # looked again and again, backing off

        clock.advance(400)                       # past the hour and the longest backoff (360 s): posted once more...
        with caplog.at_level(logging.WARNING):
            _post_and_die(store, slack)                          # ...and that answer is lost too
        assert len(slack.posts()) == 2 and "may appear twice" in caplog.text
        row = _row(store)
        assert row["state"] == "pending" and row["in_flight_at"] is not None and row["unknown_outcomes"] == 1

        with caplog.at_level(logging.WARNING):
            _drive(_outbox(store, slack), clock, LOOKUP_WINDOW_S + 900)
        assert len(slack.posts()) == 2, "a third copy"
        row = _row(store)
        assert row["state"] == "failed" and "not posted a third time" in row["last_error"]
        assert "HTTP 503" in row["last_error"]
