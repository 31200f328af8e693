"""The Reply button end to end through the real daemon: block_actions -> views.open -> view_submission over
Socket Mode (a real WebSocket) -> one reply on the fake Mastodon; and an approval round."""

from __future__ import annotations

import copy
import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RULES, write_config
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.process import MonitorProcess
from tests.fakes.slack import APP_TOKEN, TOKEN, FakeSlack
from tests.test_interactive import BLOCK_ACTIONS

WRITE = "mastodon-write-token-0123456789"


def _wait(cond: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(0.05)


def _db(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()


def click(action_id: str, value: int, user: str = "U0CA5", trigger: str = "tr-1") -> dict[str, Any]:
    p = copy.deepcopy(BLOCK_ACTIONS)
    p["user"]["id"] = user
    p["trigger_id"] = trigger
    p["actions"][0].update(action_id=action_id, value=str(value), block_id=f"alert:{value}")
    return p


def submission(view: dict[str, Any], text: str, user: str = "U0CA5") -> dict[str, Any]:
    """A view_submission as Slack sends it: the opened view, with the input's value in state.values."""
    return {"type": "view_submission", "team": {"id": "T0CAG", "domain": "acme"},
            "user": {"id": user, "username": "amy", "name": "amy", "team_id": "T0CAG"},
            "api_app_id": "A0CA5", "token": "Shh_its_a_seekrit", "trigger_id": "tr-submit",
            "view": {**view, "id": "V00000001", "team_id": "T0CAG", "state": {"values": {
                "reply_text": {"text": {"type": "plain_text_input", "value": text}}}}},
            "response_urls": [], "is_enterprise_install": False, "enterprise": None}


@pytest.fixture
def daemon(tmp_path: Path, request: pytest.FixtureRequest):
    rules = RULES + getattr(request, "param", "")
    with FakeMastodon(write_token=WRITE) as masto, FakeSlack() as slack:
        socket = slack.enable_socket_mode()
        cfg, rules_path = write_config(tmp_path, slack_url=slack.api_url, rules=rules, sources=f"""\
            - id: fedi
              kind: mastodon
              instances: [{masto.url}]
              tags: [acme]
              token_env: TEST_MASTODON_TOKEN
              every: 10s
        """)
        masto.post("@acme your app is broken again, terrible service, I want a refund")
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "TEST_MASTODON_TOKEN": WRITE}
        with MonitorProcess(["run", "--config", str(cfg), "--rules", str(rules_path)], env=env) as proc:
            proc.wait_for("daemon started")
            assert socket.connected.wait(15)
            db = tmp_path / "monitor.db"
            _wait(lambda: slack.posts("#comms-alerts"), what="the alert in Slack")
            [(alert_id,)] = _db(db, "SELECT id FROM alerts")
            yield masto, slack, socket, proc, db, alert_id
            proc.signal(signal.SIGTERM)
            assert proc.wait(30) == 0, proc.log()[-3000:]


def test_reply_modal_posts_one_reply_and_links_it_in_the_thread(daemon):
    masto, slack, socket, proc, db, alert_id = daemon
    root = slack.posts("#comms-alerts")[0]
    assert "reply" in json.dumps(root.args["blocks"])                     # the Reply button is on the alert

    socket.wait_ack(socket.send_interactive(click("reply", alert_id)))
    view = _wait(lambda: slack.views and slack.views[-1], what="views.open")
    opened = next(c for c in slack.calls if c.method == "views.open")
    assert opened.args["trigger_id"] == "tr-1" and opened.token == TOKEN
    field = view["blocks"][1]["element"]
    assert field["max_length"] == 500 and "we" in field["initial_value"].lower()
    assert "at most 500 characters" in json.dumps(view["blocks"][0])

    too_long = socket.send_interactive(submission(view, "x" * 501))
    ack = socket.wait_ack(too_long)
    assert ack["payload"]["response_action"] == "errors"
    assert "501 characters" in ack["payload"]["errors"]["reply_text"]
    assert _db(db, "SELECT COUNT(*) FROM replies") == [(0,)]              # refused before anything is stored

    ack = socket.wait_ack(socket.send_interactive(submission(view, "So sorry! Please DM us your order number.")))
    assert not ack.get("payload")                                          # closes the modal
    _wait(lambda: masto.replies, what="the reply on Mastodon")
    [reply] = masto.replies
    assert reply["form"]["in_reply_to_id"] == masto.statuses[0]["id"]
    assert reply["authorization"] == f"Bearer {WRITE}"
    assert reply["form"]["status"] == "So sorry! Please DM us your order number."
    url = reply["status"]["url"]
    [(at, by)] = _wait(lambda: [r for r in _db(db, "SELECT first_response_at, first_response_by FROM alerts")
                                if r[0]], what="first response")
    assert by == "slack:U0CA5"
    _wait(lambda: any(url in json.dumps(c.args) for c in slack.calls if c.method == "chat.postMessage"
                      and c.args.get("thread_ts")), what="the link in the thread")
    _wait(lambda: any(url in json.dumps(c.args) for c in slack.calls if c.method == "chat.update"),
          what="the link on the root message")
    time.sleep(0.5)
    assert len(masto.replies) == 1


APPROVAL = """\
reply_approval:
  acme: head-of-comms
"""


@pytest.mark.parametrize("daemon", [APPROVAL], indirect=True)
def test_approval_round_only_the_approved_text_is_posted(daemon):
    masto, slack, socket, proc, db, alert_id = daemon
    socket.wait_ack(socket.send_interactive(click("reply", alert_id)))
    view = _wait(lambda: slack.views and slack.views[-1], what="views.open")
    socket.wait_ack(socket.send_interactive(submission(view, "Sorry! DM us?")))
    # the approver (head-of-comms, @U0HEAD) gets the draft with Approve / Edit / Reject
    ask = _wait(lambda: [c for c in slack.posts("U0HEAD") if "reply_approve" in json.dumps(c.args)],
                what="the approval request")[0]
    assert "Sorry! DM us?" in json.dumps(ask.args)
    time.sleep(0.5)
    assert masto.replies == []                                          # nothing posted before approval
    [(reply_id,)] = _db(db, "SELECT id FROM replies WHERE state = 'awaiting_approval'")

    # Edit opens the modal pre-filled; submitting it approves the edited text
    socket.wait_ack(socket.send_interactive(click("reply_edit", reply_id, user="U0HEAD", trigger="tr-2")))
    edit = _wait(lambda: len(slack.views) == 2 and slack.views[-1], what="the edit modal")
    assert edit["blocks"][1]["element"]["initial_value"] == "Sorry! DM us?"
    socket.wait_ack(socket.send_interactive(submission(edit, "We are sorry, please DM us.", user="U0HEAD")))
    _wait(lambda: masto.replies, what="the approved reply")
    assert [r["form"]["status"] for r in masto.replies] == ["We are sorry, please DM us."]
    # marked posted just after the platform said ok: wait for the row (regression: a flaky race in this test)
    _wait(lambda: _db(db, "SELECT state, decided_by FROM replies") == [("posted", "slack:U0HEAD")],
          what="the reply marked posted")

    # a second reply, rejected: never posted
    socket.wait_ack(socket.send_interactive(click("reply", alert_id, trigger="tr-3")))
    view = _wait(lambda: len(slack.views) == 3 and slack.views[-1], what="views.open")
    socket.wait_ack(socket.send_interactive(submission(view, "lol")))
    [(second,)] = _wait(lambda: _db(db, "SELECT id FROM replies WHERE state = 'awaiting_approval'"))
    socket.wait_ack(socket.send_interactive(click("reply_reject", second, user="U0HEAD", trigger="tr-4")))
    _wait(lambda: _db(db, "SELECT state FROM replies WHERE id = ?", (second,)) == [("rejected",)])
    time.sleep(0.5)
    assert len(masto.replies) == 1
