"""Escalation on a fake clock: levels fire at `after`, an ack stops them, a restart fires a due level once,
repeats and reminders, quiet hours hold then deliver."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.alerting.lifecycle import transition
from tests.harness import Harness, spec_rules

pytestmark = pytest.mark.usefixtures("backend")     # each test on SQLite and on PostgreSQL

INFLUENCER = dict(reach=25_000)                # angry-influencer → policy standard
SUPPORT, COMMS, HEAD = "U024BE7LH", "#comms-alerts", "U0HEAD"


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path, spec_rules())
    yield harness
    harness.close()


def _notified(h: Harness) -> float:
    """Post a standard-policy alert and let group_wait pass; return when its first message went out."""
    h.mention(**INFLUENCER)
    h.tick()
    assert h.sender.posts == []                      # group_wait: nothing yet
    h.advance(30)
    (root,) = h.sender.roots()
    assert root.channel == SUPPORT
    return h.alerts()[0]["notified_at"]


def test_level_two_fires_at_after_and_posts_in_the_new_owners_channel(h):
    t0 = _notified(h)
    h.advance(t0 + 30 * 60 - 1 - h.clock.now(), step=60)
    assert h.sender.roots(COMMS) == [] and h.sender.replies() == []
    h.advance(1)
    (reply,) = h.sender.replies(SUPPORT)
    assert "Escalated to level 2" in reply.text and "not acknowledged after 30m" in reply.text
    assert reply.thread_ts == h.sender.roots(SUPPORT)[0].ts
    (comms_root,) = h.sender.roots(COMMS)                  # a new owner gets a root message of their own
    assert "<!subteam" not in comms_root.text
    a = h.alerts()[0]
    assert a["level"] == 1 and a["state"] == "open"
    assert h.events(a["id"]) == ["opened", "notified", "escalated"]
    h.advance(t0 + 2 * 3600 - h.clock.now(), step=60)      # level 3
    assert len(h.sender.roots(HEAD)) == 1
    assert h.events(a["id"]).count("escalated") == 2
    assert any(u[0] == SUPPORT for u in h.sender.updates)   # roots re-rendered with the new level


def test_ack_stops_escalation(h):
    t0 = _notified(h)
    h.advance(10 * 60, step=60)
    a = transition(h.app.store, h.alerts()[0]["id"], "ack", "U0ALICE")
    assert a["state"] == "acknowledged" and a["acked_by"] == "U0ALICE"
    h.deliver()
    (reply,) = h.sender.replies()
    assert "Acknowledged by <@U0ALICE>" in reply.text
    h.advance(t0 + 3 * 3600 - h.clock.now(), step=120)
    assert h.sender.roots(COMMS) == [] and h.sender.roots(HEAD) == []
    assert len(h.sender.replies()) == 1
    assert "escalated" not in h.events(a["id"])
    assert a["acked_at"] - a["created_at"] == pytest.approx(30 + 10 * 60, abs=5)


def test_restart_between_ticks_fires_a_due_level_once(h):
    t0 = _notified(h)
    h.advance(20 * 60, step=60)
    h.restart()                                             # the daemon dies; nobody ticks for a while
    h.clock.set(t0 + 45 * 60)                               # it comes back after level 2 was due
    h.tick()
    assert len(h.sender.roots(COMMS)) == 1                  # late, but it fires
    h.restart()                                             # and a restart right after it fired...
    h.tick()
    h.restart()
    h.tick()
    assert len(h.sender.roots(COMMS)) == 1                  # ...does not fire it again
    assert len(h.sender.replies(SUPPORT)) == 1
    assert h.events(h.alerts()[0]["id"]).count("escalated") == 1


def test_two_processes_ticking_the_same_db_fire_once(h):
    t0 = _notified(h)
    other = h._app()                                        # e.g. a `run --once` racing the daemon
    try:
        h.clock.set(t0 + 30 * 60)
        assert other.tick()["fired"] == 1
        assert h.app.tick()["fired"] == 0
    finally:
        other.close()
    h.deliver()
    assert len(h.sender.roots(COMMS)) == 1


def test_critical_repeat_then_stops(tmp_path):
    h = Harness(tmp_path, spec_rules())
    try:
        h.mention("Acme was hacked, my data leak is on the internet")   # data-security → critical
        h.advance(30)
        assert {r.channel for r in h.sender.roots()} == {"#security-incidents", HEAD}
        h.advance(10 * 60 + 4 * 10 * 60 + 60, step=30)       # level 2 at 10m, then 3 repeats 10m apart
        pings = [r for r in h.sender.replies() if "<@U0HEAD>" in r.text]
        # each ping lands under both roots (security channel and head-of-comms' DM)
        assert len([r for r in pings if r.channel == HEAD]) == 4
        assert sum("reminder" in r.text for r in h.sender.replies(HEAD)) == 3
        before = len(h.sender.replies())
        h.advance(3 * 3600, step=300)                        # nothing until repeat_after (4h since last ping)
        assert len(h.sender.replies()) == before
        h.advance(3600, step=300)
        assert any("Still open after" in r.text for r in h.sender.replies())
    finally:
        h.close()


def test_ack_timeout_reopens(tmp_path):
    rules = spec_rules().replace("  repeat_after: 4h\n", "  repeat_after: 4h\n  ack_timeout: 1h\n")
    h = Harness(tmp_path, rules)
    try:
        _notified(h)
        alert_id = h.alerts()[0]["id"]
        acked = transition(h.app.store, alert_id, "ack", "bob")["acked_at"]
        h.advance(acked + 3600 - h.clock.now() - 5, step=60)
        assert h.alerts()[0]["state"] == "acknowledged"
        h.advance(60, step=10)
        a = h.alerts()[0]
        assert a["state"] == "open"
        assert "reopened" in h.events(alert_id)
        assert any("not resolved within 1h" in r.text for r in h.sender.replies())
        # escalation resumes from level 1: level 2 is 30m after the reopen, not immediately
        reopened_at = h.app.store.one("SELECT at FROM alert_events WHERE kind='reopened'")["at"]
        assert a["next_action"] == "escalate" and a["next_action_at"] == pytest.approx(reopened_at + 30 * 60)
    finally:
        h.close()


def test_snooze_then_back_to_open(h):
    _notified(h)
    alert_id = h.alerts()[0]["id"]
    a = transition(h.app.store, alert_id, "snooze", "carol", until=h.clock.now() + 3600)
    assert a["state"] == "acknowledged" and a["snoozed_until"]
    assert transition(h.app.store, alert_id, "snooze", "carol")["snoozed_until"] == a["snoozed_until"]  # no-op
    h.advance(3600 - 10, step=60)
    assert h.sender.roots(COMMS) == []                      # escalation silenced while snoozed
    h.advance(20)
    assert h.alerts()[0]["state"] == "open"
    assert any("Snooze over" in r.text for r in h.sender.replies())


def _paris(h: int, m: int = 0) -> float:
    # March 2024 before DST: Paris is UTC+1
    return datetime(2024, 3, 12, h - 1, m, tzinfo=UTC).timestamp()


def test_quiet_hours_hold_then_deliver(tmp_path):
    h = Harness(tmp_path, spec_rules(), start=_paris(23))
    try:
        h.mention()                                           # any-negative: waits for the morning
        h.mention("Acme was hacked last night, a massive data leak")   # critical: excepted, goes through
        h.advance(60)
        assert {r.channel for r in h.sender.roots()} == {"#security-incidents", HEAD}
        waiting = [a for a in h.alerts() if a["route"] == "any-negative"][0]
        assert waiting["flush_at"] == _paris(7) + 86400 and waiting["notified_at"] is None
        h.clock.set(_paris(6, 59) + 86400)
        h.tick()
        assert h.sender.roots("#comms-alerts") == []
        h.clock.set(_paris(7) + 86400)
        h.tick()
        assert len(h.sender.roots("#comms-alerts")) == 1      # delivered once the window ends, nothing lost
    finally:
        h.close()


def test_quiet_hours_hold_escalation_too(tmp_path):
    h = Harness(tmp_path, spec_rules(), start=_paris(21, 50))
    try:
        t0 = _notified(h)                                      # standard policy, notified at 21:50:30
        h.advance(t0 + 45 * 60 - h.clock.now(), step=60)       # level 2 was due at 22:20:30
        assert h.sender.roots(COMMS) == []
        assert h.alerts()[0]["next_action_at"] == _paris(7) + 86400
        h.clock.set(_paris(7) + 86400)
        h.tick()
        assert len(h.sender.roots(COMMS)) == 1
    finally:
        h.close()
