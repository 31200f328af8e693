"""Alert states open → acknowledged → resolved (and back), each transition stored with who and when, shown
in Slack as a thread reply plus a root update; Not negative feedback; the CLI; replay sends nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from monitor.alerting.lifecycle import list_alerts, list_feedback, transition
from monitor.core.errors import AlertError
from monitor.notify.outbox import SlackSender
from tests.fakes.slack import TOKEN, channel_id
from tests.harness import NEGATIVE, Harness, spec_rules

pytestmark = pytest.mark.usefixtures("backend")     # each test on SQLite and on PostgreSQL


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path, spec_rules())
    yield harness
    harness.close()


def _open(h: Harness, text: str = NEGATIVE) -> int:
    h.mention(text)
    h.advance(30)
    return h.alerts()[-1]["id"]


def _cli(h: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args, "--config", str(h.cfg), "--rules",
                           str(h.rules_path)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "USER": "ops-olga"})


def test_states_and_times_are_recorded(h):
    alert_id = _open(h)
    h.clock.advance(120)
    transition(h.app.store, alert_id, "ack", "alice")
    h.clock.advance(600)
    transition(h.app.store, alert_id, "resolve", "bob")
    (a,) = list_alerts(h.app.store)
    assert (a["state"], a["acked_by"], a["resolved_by"]) == ("resolved", "alice", "bob")
    assert a["time_to_ack"] == pytest.approx(30 + 120) and a["time_to_resolve"] == pytest.approx(30 + 720)
    events = h.app.store.query("SELECT kind, actor FROM alert_events WHERE alert_id=? ORDER BY id", (alert_id,))
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("opened", None), ("notified", None), ("acknowledged", "alice"), ("resolved", "bob")]


def test_same_action_twice_is_a_noop_and_invalid_ones_are_polite(h):
    alert_id = _open(h)
    transition(h.app.store, alert_id, "ack", "alice")
    transition(h.app.store, alert_id, "ack", "alice")
    transition(h.app.store, alert_id, "resolve", "bob")
    transition(h.app.store, alert_id, "resolve", "bob")
    assert h.events(alert_id).count("acknowledged") == 1 and h.events(alert_id).count("resolved") == 1
    with pytest.raises(AlertError, match=r"already resolved by bob .*Reopen it first"):
        transition(h.app.store, alert_id, "ack", "carol")
    with pytest.raises(AlertError, match="already resolved"):
        transition(h.app.store, alert_id, "snooze", "carol")
    with pytest.raises(AlertError, match="no alert #999"):
        transition(h.app.store, 999, "ack", "carol")
    with pytest.raises(AlertError, match="Unknown action"):
        transition(h.app.store, alert_id, "delete", "carol")


def test_reopen_brings_a_resolved_alert_back_and_pings(h):
    alert_id = _open(h)
    transition(h.app.store, alert_id, "resolve", "bob")
    a = transition(h.app.store, alert_id, "reopen", "carol")
    assert a["state"] == "open" and a["resolved_at"] is None
    assert transition(h.app.store, alert_id, "reopen", "carol")["state"] == "open"     # no-op
    h.deliver()
    assert "Reopened by carol" in h.sender.replies()[-1].text


def test_not_negative_resolves_and_keeps_feedback_for_every_mention(h):
    h.mention(NEGATIVE)
    h.mention("RT @x: " + NEGATIVE)
    h.advance(30)
    alert_id = h.alerts()[0]["id"]
    a = transition(h.app.store, alert_id, "not_negative", "U0DANA")
    assert (a["state"], a["resolution"]) == ("resolved", "not_negative")
    transition(h.app.store, alert_id, "not_negative", "U0DANA")                        # no-op
    fb = list_feedback(h.app.store)
    assert len(fb) == 2 and {f["brand"] for f in fb} == {"acme"} and {f["actor"] for f in fb} == {"U0DANA"}
    assert all(NEGATIVE in f["text"] for f in fb) and all(f["at"] == h.clock.now() for f in fb)
    out = _cli(h, "feedback", "--json")
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 2 and json.loads(out.stdout.splitlines()[0])["verdict"] == "not_negative"


def test_every_transition_shows_in_slack_as_reply_and_root_update(tmp_path, fake_slack):
    h = Harness(tmp_path, spec_rules(), sender=SlackSender(TOKEN, fake_slack.api_url, timeout=5))
    try:
        alert_id = _open(h)
        (root,) = fake_slack.posts()
        root_ts = next(ts for (cid, ts), msg in fake_slack.messages.items() if msg["thread_ts"] is None)
        for action in ("ack", "snooze", "resolve"):
            transition(h.app.store, alert_id, action, "U0ALICE")
            h.deliver()
        replies = [c for c in fake_slack.posts() if c.args.get("thread_ts")]
        assert [r.args["thread_ts"] for r in replies] == [root_ts] * 3
        assert "Acknowledged by <@U0ALICE>" in replies[0].args["text"]
        assert "Snoozed by <@U0ALICE>" in replies[1].args["text"]
        assert "Resolved by <@U0ALICE>" in replies[2].args["text"]
        updates = [c for c in fake_slack.calls if c.method == "chat.update"]
        assert len(updates) == 3 and all(u.args["ts"] == root_ts for u in updates)
        final = fake_slack.messages[(channel_id("#comms-alerts"), root_ts)]
        assert "resolved" in json.dumps(final["blocks"])
        assert root.args["channel"] == "#comms-alerts"
    finally:
        h.close()


def test_cli_alerts_ack_resolve(tmp_path):
    # the CLI runs on the system clock: so does this daemon, and without quiet hours (any time of day)
    h = Harness(tmp_path, spec_rules().replace('quiet_hours: {from: "22:00", to: "07:00", tz: Europe/Paris, '
                                               'except: [critical]}\n', ""), start=time.time())
    try:
        _cli_lifecycle(h)
    finally:
        h.close()


def _cli_lifecycle(h: Harness) -> None:
    alert_id = _open(h)
    out = _cli(h, "ack", str(alert_id))
    assert out.returncode == 0 and f"alert #{alert_id} is acknowledged" in out.stdout
    listed = _cli(h, "alerts", "--open")
    assert "acknowledged" in listed.stdout and "owners=comms-oncall" in listed.stdout and "mentions=1" in listed.stdout
    out = _cli(h, "resolve", str(alert_id), "--by", "ops-pat")
    assert out.returncode == 0
    assert _cli(h, "alerts", "--open").stdout.strip() == "no open alerts"
    again = _cli(h, "ack", str(alert_id))
    assert again.returncode == 1 and "already resolved by ops-pat" in again.stderr
    history = _cli(h, "alerts", str(alert_id))
    assert "acknowledged" in history.stdout and "cli:ops-olga" in history.stdout and "ops-pat" in history.stdout
    # the daemon (this process) delivers what the CLI queued: a reply per transition under the root
    h.deliver()
    assert len(h.sender.replies()) == 2


def test_replay_prints_who_would_be_told_and_sends_nothing(h):
    h.mention(NEGATIVE)
    h.mention("RT @x: " + NEGATIVE)
    h.mention("Acme was hacked, huge data leak")
    h.mention("I love Acme")
    pending = h.app.store.one("SELECT COUNT(*) AS n FROM deliveries")["n"]
    with h.app.store.tx() as db:
        db.execute("UPDATE mentions SET collected_at = strftime('%s','now') - 3600")
    out = _cli(h, "replay", "--since", "7d")
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert sorted((r["route"], r["mentions"]) for r in records) == [("any-negative", 2), ("data-security", 1)]
    sec = next(r for r in records if r["route"] == "data-security")
    assert sec["notify"] == ["security", "head-of-comms"] and sec["escalation"] == [["head-of-comms"]]
    assert "nothing was sent" in out.stderr
    assert h.app.store.one("SELECT COUNT(*) AS n FROM deliveries")["n"] == pending
