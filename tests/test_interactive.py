"""Buttons: Slack's real `block_actions` payloads over Socket Mode (a real WebSocket) and over signed HTTP."""

from __future__ import annotations

import copy
import inspect
import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from monitor.alerting import lifecycle as alerts
from monitor.alerting.interactive import Actions, HttpEndpoint, SocketModeRunner
from monitor.core.clock import FakeClock, SystemClock
from monitor.notify.outbox import Outbox, SlackSender
from monitor.store.database import Store
from tests.alert_factory import COMMS, make_alert
from tests.fakes.slack import APP_TOKEN, TOKEN, FakeSlack
from tests.timing import Stopwatch

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"

# As Slack sends it (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload), trimmed of
# nothing we rely on; `message` is filled with the posted message, ids/urls per test.
BLOCK_ACTIONS: dict[str, Any] = {
    "type": "block_actions",
    "user": {"id": "U0CA5", "username": "amy.mcgee", "name": "amy.mcgee", "team_id": "T0CAG"},
    "api_app_id": "A0CA5",
    "token": "Shh_its_a_seekrit",
    "container": {"type": "message", "message_ts": "1548261231.000200", "channel_id": "C0CA5",
                  "is_ephemeral": False},
    "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
    "team": {"id": "T0CAG", "domain": "acme-creamery"},
    "enterprise": None,
    "is_enterprise_install": False,
    "channel": {"id": "C0CA5", "name": "comms-alerts"},
    "message": {"type": "message", "user": "U000BOT", "ts": "1548261231.000200", "bot_id": "B000",
                "text": "Negative mention of acme", "blocks": []},
    "state": {"values": {}},
    "response_url": "https://hooks.slack.com/actions/AABA1ABCD/1232321423432/D09sSasdasdAS9091209",
    "actions": [{"action_id": "ack", "block_id": "alert:1",
                 "text": {"type": "plain_text", "text": "Acknowledge", "emoji": True},
                 "value": "1", "style": "primary", "type": "button", "action_ts": "1548426417.840180"}],
}


def click(alert_id: int, action_id: str, slack: FakeSlack, user: str = "U0CA5", **extra: Any) -> dict[str, Any]:
    p = copy.deepcopy(BLOCK_ACTIONS)
    p["user"]["id"] = user
    p["response_url"] = slack.response_url(f"{alert_id}{action_id}")
    p["actions"][0].update(action_id=action_id, value=str(alert_id), block_id=f"alert:{alert_id}")
    p.update(extra)
    return p


@pytest.fixture
def posted(fresh_db: Store, fake_slack: FakeSlack) -> tuple[int, Outbox]:
    """An alert whose root message is in (fake) Slack."""
    alert_id = make_alert(fresh_db)
    box = Outbox(fresh_db, SlackSender(TOKEN, fake_slack.api_url, 5), fresh_db.clock, 0.0, [COMMS])
    assert box.run_once() == 1
    return alert_id, box


def _root_message(store: Store, slack: FakeSlack) -> dict[str, Any]:
    row = store.one("SELECT slack_channel, slack_ts FROM deliveries WHERE kind='post' AND parent_id IS NULL")
    assert row
    return slack.messages[(row["slack_channel"], row["slack_ts"])]


def _drain(box: Outbox) -> None:
    """Send everything queued: an action queues a thread reply and a root update on the same channel."""
    for _ in range(20):
        if not box.run_once():
            return


def _buttons(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_acknowledge_updates_store_and_message_for_everyone(fresh_db, fake_slack, posted):
    alert_id, box = posted
    woke = threading.Event()
    actions = Actions(fresh_db, fresh_db.clock, fake_slack.api_url, woke.set)
    assert actions.handle_payload(click(alert_id, "ack", fake_slack)) == [None]
    row = alerts.get_alert(fresh_db, alert_id)
    assert row["state"] == "acknowledged" and row["acked_by"] == "slack:U0CA5"
    assert woke.is_set()
    _drain(box)
    msg = _root_message(fresh_db, fake_slack)
    assert "Acknowledged" in json.dumps(msg) and "<@U0CA5>" in json.dumps(msg)
    assert _buttons(msg) == ["resolve", "not_negative", "snooze_1h", "reply"]
    assert fake_slack.responses == []                              # nothing to say privately

    actions.handle_payload(click(alert_id, "resolve", fake_slack, user="U0BOB"))
    _drain(box)
    msg = _root_message(fresh_db, fake_slack)
    assert _buttons(msg) == [] and "resolved by <@U0BOB>" in json.dumps(msg)


def test_action_on_an_alert_that_changed_meanwhile_gets_a_polite_private_answer(fresh_db, fake_slack, posted):
    alert_id, box = posted
    alerts.transition(fresh_db, alert_id, "resolve", "cli:bob")       # someone resolved it from the terminal
    actions = Actions(fresh_db, fresh_db.clock, fake_slack.api_url)
    [answer] = actions.handle_payload(click(alert_id, "ack", fake_slack))
    assert answer and "already resolved" in answer
    assert alerts.get_alert(fresh_db, alert_id)["state"] == "resolved"
    [resp] = fake_slack.responses
    assert resp["response_type"] == "ephemeral" and resp["replace_original"] is False
    assert "already resolved" in resp["text"]


def test_second_acknowledgement_says_who_was_first(fresh_db, fake_slack, posted):
    alert_id, _ = posted
    actions = Actions(fresh_db, fresh_db.clock, fake_slack.api_url)
    actions.handle_payload(click(alert_id, "ack", fake_slack, user="U0AMY"))
    [answer] = actions.handle_payload(click(alert_id, "ack", fake_slack, user="U0BOB"))
    assert answer == f"Alert #{alert_id} was already acknowledged by <@U0AMY>; nothing changed."
    assert alerts.get_alert(fresh_db, alert_id)["acked_by"] == "slack:U0AMY"


def test_unknown_alert_and_foreign_buttons(fresh_db, fake_slack, posted):
    actions = Actions(fresh_db, fresh_db.clock, fake_slack.api_url)
    assert "no longer exists" in actions.handle_payload(click(999, "ack", fake_slack))[0]
    assert actions.handle_payload(click(1, "some_other_apps_button", fake_slack)) == [None]
    assert actions.handle_payload({**BLOCK_ACTIONS, "type": "view_submission"}) == []
    assert actions.handle_payload(click(1, "ack", fake_slack, user="<!channel>")) == []


def test_private_answers_only_go_to_slack_or_the_configured_api_host(fresh_db, fake_slack, posted):
    alert_id, _ = posted
    alerts.transition(fresh_db, alert_id, "resolve", "cli:bob")
    with FakeSlack() as elsewhere:                                  # a response_url that is not Slack's
        actions = Actions(fresh_db, fresh_db.clock, fake_slack.api_url)
        actions.handle_payload(click(alert_id, "ack", fake_slack, response_url=elsewhere.response_url()))
        assert elsewhere.requests == [] and fake_slack.responses == []


def _supports(action: str) -> bool:
    if action == "snooze":
        return "until" in inspect.signature(alerts.transition).parameters
    src = inspect.getsource(alerts.transition)
    return f'"{action}"' in src or f"'{action}'" in src


def test_snooze_1h(fresh_db, fake_slack, posted):
    alert_id, box = posted
    clock: FakeClock = fresh_db.clock
    actions = Actions(fresh_db, clock, fake_slack.api_url)
    assert actions.handle_payload(click(alert_id, "snooze_1h", fake_slack)) == [None]
    row = alerts.get_alert(fresh_db, alert_id)
    assert row["snoozed_until"] == pytest.approx(clock.now() + 3600)
    _drain(box)
    assert "Snoozed" in json.dumps(_root_message(fresh_db, fake_slack))



def test_not_negative(fresh_db, fake_slack, posted):
    alert_id, box = posted
    actions = Actions(fresh_db, fresh_db.clock, fake_slack.api_url)
    assert actions.handle_payload(click(alert_id, "not_negative", fake_slack)) == [None]
    assert fresh_db.one("SELECT COUNT(*) AS n FROM feedback WHERE alert_id = ?", (alert_id,))["n"] >= 1
    _drain(box)
    assert [c for c in fake_slack.calls if c.method == "chat.update"]


# -- Socket Mode, end to end over a real WebSocket -----------------------------------------------------------

def _wait(cond: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


def test_socket_mode_click_acknowledges_and_updates(tmp_path: Path, fake_slack):
    store = Store(tmp_path / "db.sqlite", SystemClock())
    alert_id = make_alert(store)
    box = Outbox(store, SlackSender(TOKEN, fake_slack.api_url, 5), store.clock, 0.0, [COMMS])
    box.run_once()
    socket = fake_slack.enable_socket_mode()
    runner = SocketModeRunner(APP_TOKEN, fake_slack.api_url, Actions(store, store.clock, fake_slack.api_url),
                              ping_interval=5).start()
    try:
        assert socket.connected.wait(10)
        opened = [c for c in fake_slack.calls if c.method == "apps.connections.open"]
        assert opened and opened[0].token == APP_TOKEN
        envelope = socket.send_interactive(click(alert_id, "ack", fake_slack))
        assert socket.wait_ack(envelope) == {"envelope_id": envelope}
        _wait(lambda: alerts.get_alert(store, alert_id)["state"] == "acknowledged")
        _wait(lambda: store.one("SELECT 1 FROM deliveries WHERE kind='update'") is not None)
        _drain(box)
        assert "<@U0CA5>" in json.dumps(_root_message(store, fake_slack))
        # the same envelope redelivered (Slack retries when unsure): still acknowledged once
        again = socket.send_interactive(click(alert_id, "ack", fake_slack), retry_attempt=1)
        socket.wait_ack(again)
        _wait(lambda: len(fake_slack.responses) == 1)
        assert "already acknowledged" in fake_slack.responses[0]["text"]
        assert store.one("SELECT COUNT(*) AS n FROM alert_events WHERE kind='acknowledged'")["n"] == 1
    finally:
        runner.stop()
        store.close()


def test_socket_mode_with_a_refused_app_token_gives_up_loudly(tmp_path, fake_slack, caplog):
    store = Store(tmp_path / "db.sqlite", SystemClock())
    fake_slack.enable_socket_mode()
    runner = SocketModeRunner("xapp-1-wrong", fake_slack.api_url, Actions(store, store.clock, fake_slack.api_url))
    with caplog.at_level("CRITICAL"):
        runner.start()
        assert runner._thread is not None
        runner._thread.join(10)
    assert any("refused the app-level token" in r.getMessage() for r in caplog.records)
    assert len([c for c in fake_slack.calls if c.method == "apps.connections.open"]) == 1   # no retry storm
    runner.stop()
    store.close()


class _TricklingSocket:
    """Stands where Slack's WebSocket endpoint is: accepts, then answers the handshake one byte a second, for
    ever (each read gets a byte, so no read timeout ever fires)."""

    def __init__(self) -> None:
        import socket as socket_module

        self._listener = socket_module.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self._stop = threading.Event()
        self.accepted = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link/?ticket=t&app_id=A000"

    def _serve(self) -> None:
        conn, _ = self._listener.accept()
        self.accepted.set()
        with conn:
            for byte in b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" * 100:
                if self._stop.wait(1.0):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()


def test_socket_mode_handshake_that_trickles_is_cut_at_the_deadline(tmp_path, fake_slack, caplog):
    """Regression (Socket Mode's WebSocket outside the netguard): a server that accepts and trickles the handshake
    held the connection thread for ever; every connect now runs inside the process-wide deadline."""
    store = Store(tmp_path / "db.sqlite", SystemClock())
    trickle = _TricklingSocket()
    fake_slack.socket = trickle
    runner = SocketModeRunner(APP_TOKEN, fake_slack.api_url, Actions(store, store.clock, fake_slack.api_url),
                              connect_deadline=3.0)
    try:
        with Stopwatch() as sw, caplog.at_level("INFO"):
            runner.start()
            assert trickle.accepted.wait(10)
            _wait(lambda: any("not complete within 3s" in r.getMessage() for r in caplog.records), 30)
            _wait(lambda: any("not connected: buttons wait" in r.getMessage() for r in caplog.records), 10)
        sw.assert_within(3.0, 9.0, "giving up")     # the 3 s connect deadline is the promise; the rest is load
        assert not any("buttons are live" in r.getMessage() for r in caplog.records)     # never said falsely
    finally:
        runner.stop()
        trickle.stop()
        fake_slack.socket = None
        store.close()


# -- HTTP endpoint with request signatures ------------------------------------------------------------------

@pytest.fixture
def endpoint(fresh_db, fake_slack, posted):
    ep = HttpEndpoint("127.0.0.1:0", "/slack/actions", SECRET, Actions(fresh_db, fresh_db.clock, fake_slack.api_url),
                      fresh_db.clock).start()
    yield ep
    ep.stop()


def _signed(body: str, ts: float, secret: str = SECRET) -> dict[str, str]:
    sig = SignatureVerifier(secret).generate_signature(timestamp=str(int(ts)), body=body)
    assert sig
    return {"X-Slack-Request-Timestamp": str(int(ts)), "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"}


def _form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def test_http_signed_click_is_applied(fresh_db, fake_slack, posted, endpoint):
    alert_id, _ = posted
    body = _form(click(alert_id, "ack", fake_slack))
    r = httpx.post(endpoint.url, content=body, headers=_signed(body, fresh_db.clock.now()))
    assert r.status_code == 200
    _wait(lambda: alerts.get_alert(fresh_db, alert_id)["state"] == "acknowledged", 5)


@pytest.mark.parametrize("case", ["forged", "wrong_secret", "stale", "future", "tampered", "missing",
                                  "garbage_timestamp"])
def test_http_refuses_forged_and_stale_requests(fresh_db, fake_slack, posted, endpoint, case):
    alert_id, _ = posted
    body = _form(click(alert_id, "resolve", fake_slack))
    now = fresh_db.clock.now()
    headers = {
        "forged": {**_signed(body, now), "X-Slack-Signature": "v0=" + "0" * 64},
        "wrong_secret": _signed(body, now, secret="not-the-secret"),
        "stale": _signed(body, now - 301),                         # just outside the 5-minute window
        "future": _signed(body, now + 301),
        "tampered": _signed(body, now),
        "missing": {"Content-Type": "application/x-www-form-urlencoded"},
        "garbage_timestamp": {**_signed(body, now), "X-Slack-Request-Timestamp": "soon"},
    }[case]
    sent = body.replace("resolve", "ack") if case == "tampered" else body
    r = httpx.post(endpoint.url, content=sent, headers=headers)
    assert r.status_code == 401
    time.sleep(0.1)
    assert alerts.get_alert(fresh_db, alert_id)["state"] == "open"


def test_http_inside_the_window_and_other_paths(fresh_db, fake_slack, posted, endpoint):
    alert_id, _ = posted
    body = _form(click(alert_id, "resolve", fake_slack))
    r = httpx.post(endpoint.url, content=body, headers=_signed(body, fresh_db.clock.now() - 299))
    assert r.status_code == 200
    _wait(lambda: alerts.get_alert(fresh_db, alert_id)["state"] == "resolved", 5)
    assert httpx.post(endpoint.url.replace("/slack/actions", "/other"), content=body,
                      headers=_signed(body, fresh_db.clock.now())).status_code == 404
    assert httpx.get(endpoint.url).status_code == 405
    ssl_check = "ssl_check=1&token=x"
    assert httpx.post(endpoint.url, content=ssl_check,
                      headers=_signed(ssl_check, fresh_db.clock.now())).status_code == 200


def test_daemon_starts_socket_mode_and_delivers_the_update(tmp_path, fake_slack, monkeypatch):
    from monitor.runtime.daemon import App, Daemon, Paths
    from tests.conftest import write_config

    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    socket = fake_slack.enable_socket_mode()
    cfg, rules = write_config(tmp_path, sources="[]\n", slack_url=fake_slack.api_url)
    app = App(Paths(str(cfg), str(rules)))
    alert_id = make_alert(app.store)
    daemon = Daemon(app)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    try:
        assert socket.connected.wait(10)
        _wait(lambda: len(fake_slack.posts()) == 1)
        socket.wait_ack(socket.send_interactive(click(alert_id, "ack", fake_slack)))
        _wait(lambda: any(c.method == "chat.update" for c in fake_slack.calls))
        assert "<@U0CA5>" in json.dumps(_root_message(app.store, fake_slack))
    finally:
        daemon.stop.set()
        thread.join(15)
        app.close()
    assert not thread.is_alive()
