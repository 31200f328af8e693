"""A post Slack answered with an error: may it have landed? Alerts follow the weekly report's rule.

A 5xx (an edge's HTML page, an empty 502/504, Slack's own 500) or `internal_error`/`fatal_error` may come after
Slack posted the message, as a timeout may: the delivery stays in flight and is looked for in the channel's
history before anything is posted again. A dead token (invalid_auth, token_revoked...) on that lookup is no
answer either: delivery halts, said in `monitor status`, and nothing is posted blind. Real slack_sdk client
against the fake Slack (tests/fakes/slack.py), simulated time.

Regressions pinned: a 502 after Slack had posted cleared the in-flight mark and the alert was posted twice; a
history read refused for a dead token was taken for a missing scope, so the alert was posted once more.
"""

from __future__ import annotations

from typing import Any

import pytest

from monitor.core.clock import FakeClock
from monitor.notify.inflight import delivery_key
from monitor.notify.outbox import Outbox
from monitor.notify.queue import enqueue
from monitor.ops.checks import outbox_health
from monitor.store.database import Store
from tests.fakes.slack import FakeSlack, Fault
from tests.test_delivery_lookup import COMMS, _drive, _outbox, _post_and_die, _queue_one, _row

LOOKUPS = ("conversations.history", "conversations.replies")


def _copies(slack: FakeSlack, row: dict[str, Any]) -> list[str]:
    """The ts of every message in Slack carrying this delivery's id: what the channel's readers see."""
    key = delivery_key(row)
    return [m["ts"] for m in slack.messages.values()
            if ((m.get("metadata") or {}).get("event_payload") or {}).get("delivery") == key]


def _alert(store: Store, box: Outbox, slack: FakeSlack, thread: bool) -> int:
    """Queue the alert under test: a root post, or a reply in the thread of a root already sent."""
    parent = None
    if thread:
        _queue_one(store, "root")
        assert box.run_once() == 1
        parent = _row(store)["id"]
    with store.tx() as db:
        rid = enqueue(db, store.now(), "under-test", "post", COMMS, {"text": "alert under test"}, parent_id=parent)
    assert rid
    return rid


def _by_id(store: Store, rid: int) -> dict[str, Any]:
    return store.one("SELECT * FROM deliveries WHERE id = ?", (rid,))


@pytest.mark.parametrize(("thread", "fault"), [
    (False, Fault(502, after=True)),                                   # an edge's HTML error page
    (True, Fault(504, body=b"", after=True)),                          # an empty gateway timeout, in a thread
    (False, Fault(500, body=b'{"ok":false,"error":"internal_error"}', after=True)),
    (True, Fault(200, error="fatal_error", after=True)),               # "some aspect may have succeeded"
], ids=["502-html-root", "504-empty-reply", "500-json-root", "fatal_error-reply"])
def test_an_error_answer_after_slack_posted_is_found_in_history_not_posted_again(tmp_path, thread, fault):
    clock = FakeClock()
    store = Store(tmp_path / "m.db", clock)
    with FakeSlack(clock=clock) as slack:
        box = _outbox(store, slack)
        rid = _alert(store, box, slack, thread)
        slack.faults.append(fault)                       # the next call: this alert's chat.postMessage
        assert box.run_once() == 0
        row = _by_id(store, rid)
        assert row["state"] == "pending" and row["in_flight_at"] is not None, "the in-flight mark was cleared"
        assert "may have posted" in row["last_error"]
        _drive(box, clock, 120, step=10)
        row = _by_id(store, rid)
        assert _copies(slack, row) == [row["slack_ts"]], "posted twice"
        assert row["state"] == "sent" and row["in_flight_at"] is None
        assert [c.method for c in slack.calls if c.method in LOOKUPS] == [LOOKUPS[thread]]


def test_a_5xx_that_posted_nothing_is_posted_once_after_the_lookup(tmp_path):
    """The common 5xx (Slack down, nothing posted): posted again only once the history since it went in flight
    was read to the end without it. Before: posted again at once, unchecked."""
    clock = FakeClock()
    store = Store(tmp_path / "m.db", clock)
    with FakeSlack(clock=clock) as slack:
        box = _outbox(store, slack)
        rid = _alert(store, box, slack, thread=False)
        slack.faults.append(Fault(503))
        _drive(box, clock, 120, step=10)
        row = _by_id(store, rid)
        assert _copies(slack, row) == [row["slack_ts"]] and row["state"] == "sent"
        calls = [c.method for c in slack.calls]
        assert calls.count("chat.postMessage") == 2
        repost = len(calls) - 1 - calls[::-1].index("chat.postMessage")
        assert "conversations.history" in calls[calls.index("chat.postMessage") + 1:repost], calls


def test_without_history_scope_a_5xx_is_retried_until_slack_is_back_never_failed(tmp_path, caplog):
    """No `channels:history`: a 5xx cannot be checked, and most come from an outage that posted nothing; it is
    retried with backoff as before (WARNING "may appear twice"), not failed after two like a twice-lost answer."""
    clock = FakeClock()
    store = Store(tmp_path / "m.db", clock)
    with FakeSlack(clock=clock) as slack:
        slack.scopes -= {"channels:history"}
        box = _outbox(store, slack)
        rid = _alert(store, box, slack, thread=False)
        down_until = clock.now() + 600
        slack.fault_when = lambda call: Fault(502) if call.method == "chat.postMessage" and clock.now() < down_until \
            else None
        _drive(box, clock, 1500, step=10)          # the backoff reaches 5 min before it is back
        row = _by_id(store, rid)
        assert row["state"] == "sent" and len(_copies(slack, row)) == 1
        assert len([c for c in slack.posts() if c.at < down_until]) >= 3     # kept trying through the outage
        assert "may appear twice" in caplog.text


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive", "not_authed"])
def test_a_dead_token_on_the_lookup_halts_delivery_and_never_posts_blind(tmp_path, error):
    """The token dies while an alert is in flight: the lookup cannot tell, delivery halts with the token problem
    in `monitor status`, no post is attempted; with a working token again the alert is found, still once.
    Before: taken for a missing history scope, so the alert was posted once more (then halted, in flight no
    more, and posted again once the token was fixed)."""
    clock = FakeClock()
    store = Store(tmp_path / "m.db", clock)
    with FakeSlack(clock=clock) as slack:
        _queue_one(store)
        _post_and_die(store, slack)
        slack.fault_when = lambda call: Fault(200, error=error)          # every call: the token is dead
        box = _outbox(store, slack)
        _drive(box, clock, 300, step=10)
        assert len(slack.posts()) == 1, "posted blind"
        assert box.halted and error in box.halted
        row = _row(store)
        assert row["state"] == "pending" and row["in_flight_at"] is not None
        said = outbox_health(store, clock.now())
        assert "delivery_halted" in said["problem_kinds"]
        assert any(error in p and "not posted again blind" in p for p in said["problems"]), said["problems"]
        lookups = [c for c in slack.calls if c.method != "chat.postMessage"]
        assert len(lookups) == 1                                         # halted: no retry storm

        slack.fault_when = None                                          # token fixed, daemon restarted
        _drive(_outbox(store, slack), clock, 60, step=10)
        row = _row(store)
        assert row["state"] == "sent" and _copies(slack, row) == [row["slack_ts"]]
        assert len(slack.posts()) == 1
        assert outbox_health(store, clock.now())["problems"] == []

