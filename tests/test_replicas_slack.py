"""Slack buttons with several replicas on one PostgreSQL: whichever replica a click reaches, it takes effect once.

Slack delivers each Socket Mode event to ONE of the app's connections (each replica holds its own), and an
HTTP Request URL sits behind a load balancer that picks one replica per request. Either way a click is a
row-locked transition in the shared database, and the message update goes through the channel's outbox, so
the same button clicked twice, landing on two replicas at the same instant, makes one transition and one
`chat.update`. The process tests run real `monitor run` replicas; the regression test pins a race in the
click handler itself, deterministically.
"""

from __future__ import annotations

import json
import random
import re
import socket as sockets
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from monitor.alerting import interactive
from monitor.alerting import lifecycle as alerts
from monitor.alerting.interactive import Actions
from monitor.store.database import Store
from tests.alert_factory import make_alert
from tests.conftest import write_config
from tests.fakes.feeds import Feed, FeedServer, Item
from tests.fakes.process import MonitorProcess
from tests.fakes.slack import APP_TOKEN, TOKEN, FakeSlack
from tests.fakes.socket_mode_spread import SpreadSocketMode
from tests.replicas_helpers import pg_url_fixture, story_text, wait_until  # noqa: F401 - `pg_url`
from tests.test_interactive import click

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
STORIES = 6


# -- the race in the click handler, pinned ---------------------------------------------------------------

def test_regression_a_double_click_on_two_replicas_queued_a_second_root_update(pg_url, monkeypatch):
    """Bug: `Actions.apply` read the alert, then the newest delivery id. A click on another replica that
    committed between the two reads made this one's transition a no-op whose "before" still said open, and
    whose "last delivery" already covered the other click's update: it queued a second chat.update. The
    newest delivery id is now read first."""
    a, b = Store(pg_url), Store(pg_url)
    try:
        alert_id = make_alert(a)
        one = Actions(a, a.clock, "http://127.0.0.1:9/api/")
        two = Actions(b, b.clock, "http://127.0.0.1:9/api/")
        real_get = alerts.get_alert
        raced: list[str | None] = []

        def get_then_the_other_replica_clicks(store: Store, aid: int) -> dict[str, Any]:
            row = real_get(store, aid)
            if store is b and not raced:                 # right after replica two read the alert
                raced.append(one.apply("ack", str(aid), "U0CA5"))
            return row

        monkeypatch.setattr(interactive.alerts, "get_alert", get_then_the_other_replica_clicks)
        answer = two.apply("ack", str(alert_id), "U0CB6")
        assert raced == [None]
        updates = a.one("SELECT COUNT(*) AS n FROM deliveries WHERE alert_id = ? AND kind = 'update'", (alert_id,))
        events = a.one("SELECT COUNT(*) AS n FROM alert_events WHERE alert_id = ? AND kind = 'acknowledged'",
                       (alert_id,))
        assert (updates["n"], events["n"]) == (1, 1), answer
        assert real_get(a, alert_id)["acked_by"] == "slack:U0CA5"
    finally:
        a.close()
        b.close()


# -- real replicas ----------------------------------------------------------------------------------------

def _replicas(tmp_path: Path, slack: FakeSlack, feeds: FeedServer, url: str, transport: str,
              n: int = 2) -> list[MonitorProcess]:
    """`n` replicas of `monitor run` on one schema. In HTTP mode each listens on a port of its own: on one
    machine they cannot share one (on several machines the config would be the same file)."""
    procs = []
    for i in range(n):
        d = tmp_path / f"replica{i}"
        d.mkdir()
        extra = ""
        if transport == "http":
            with sockets.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            extra = f"  interactive: http\n  http_listen: 127.0.0.1:{port}\n"
        cfg, rules = write_config(d, slack_url=slack.api_url, sources=f"""\
            - id: news
              kind: rss
              url: {feeds.feed_url('/news.xml')}
              every: 60s
        """)
        cfg.write_text(cfg.read_text().replace("  mode: bot\n", "  mode: bot\n" + extra))
        env = {"MONITOR_DATABASE_URL": url, "SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN,
               "SLACK_SIGNING_SECRET": SECRET}
        procs.append(MonitorProcess(["run", "--config", str(cfg), "--rules", str(rules)], env=env).start())
    for p in procs:
        p.wait_for("daemon started", timeout=60)
    return procs


def _posted_alerts(store: Store, slack: FakeSlack) -> dict[int, str]:
    """alert id -> ts of its root message in Slack, once every story's root is posted and recorded."""
    def ready() -> bool:
        rows = store.query("SELECT alert_id, slack_ts FROM deliveries WHERE kind = 'post' AND parent_id IS NULL"
                           " AND state = 'sent'")
        return len(rows) >= STORIES
    wait_until(ready, 60, f"{STORIES} alerts posted")
    return {r["alert_id"]: r["slack_ts"] for r in store.query(
        "SELECT alert_id, slack_ts FROM deliveries WHERE kind = 'post' AND parent_id IS NULL ORDER BY alert_id")}


def _handled_by(procs: list[MonitorProcess], alert_id: int) -> list[int]:
    """Which replicas (by index) logged handling a click on this alert."""
    rx = re.compile(rf"slack action( refused)? alert_id={alert_id} ")
    return [i for i, p in enumerate(procs) if any(rx.search(line) for line in p.lines)]


class RoundRobinBalancer:
    """What a load balancer does in front of HTTP-mode replicas: each request to the next backend in turn."""

    def __init__(self, backends: list[str]):
        self.backends = backends
        self.turn = 0
        self.lock = threading.Lock()

    def post(self, payload: dict[str, Any], to: int | None = None) -> httpx.Response:
        with self.lock:
            if to is None:
                to, self.turn = self.turn % len(self.backends), self.turn + 1
        body = urlencode({"payload": json.dumps(payload)})
        ts = str(int(time.time()))
        sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
        return httpx.post(self.backends[to], content=body, timeout=10, headers={
            "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig or "",
            "Content-Type": "application/x-www-form-urlencoded"})


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["socket", "http"])
def test_buttons_with_two_replicas_each_click_reaches_one_replica_and_a_double_click_takes_effect_once(
        tmp_path, pg_url, transport):
    slack = FakeSlack(post_delay=0.05).start()
    socket = None
    if transport == "socket":
        slack.socket = socket = SpreadSocketMode().start()
    feeds = FeedServer().start()
    rng = random.Random(5)
    feeds.feeds["/news.xml"] = Feed([Item(f"g{n}", *story_text(n, rng), published=time.time())
                                     for n in range(STORIES)])
    store = Store(pg_url)
    procs = _replicas(tmp_path, slack, feeds, pg_url, transport)
    try:
        if socket is not None:
            socket.wait_connections(2)
            send = socket.send_interactive
        else:
            urls = [re.search(r"url=(\S+)", p.wait_for("Slack interactivity endpoint listening")).group(1)
                    for p in procs]
            balancer = RoundRobinBalancer(urls)

            def send(payload: dict[str, Any], to: int | None = None) -> str:
                assert balancer.post(payload, to).status_code == 200
                return ""
        roots = _posted_alerts(store, slack)
        ids = sorted(roots)
        single = {ids[0]: "ack", ids[1]: "not_negative", ids[2]: "resolve", ids[3]: "snooze_1h"}
        double = {ids[4]: "ack", ids[5]: "not_negative"}
        for alert_id, action in single.items():          # one click each, spread over the replicas in turn
            send(click(alert_id, action, slack))
        for alert_id, action in double.items():          # the same button twice, on both replicas at once
            payload = click(alert_id, action, slack)
            if socket is not None:
                socket.send_at_once(payload)
            else:
                both = [threading.Thread(target=send, args=(payload, i)) for i in (0, 1)]
                for t in both:
                    t.start()
                for t in both:
                    t.join(15)
        if socket is not None:
            for envelope in socket.sent_to:
                socket.wait_ack(envelope, timeout=10)     # every envelope acknowledged by the replica it reached
        want = {"ack": ("acknowledged", "acknowledged"), "not_negative": ("resolved", "not_negative"),
                "resolve": ("resolved", "resolved"), "snooze_1h": ("acknowledged", "snoozed")}
        actions = {**single, **double}

        def applied() -> bool:
            return all(alerts.get_alert(store, a)["state"] == want[act][0] for a, act in actions.items()) and \
                store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'")["n"] == 0
        wait_until(applied, 30, "every click applied and its messages sent")
        time.sleep(1.5)                                  # a second update, if one were queued late, would show

        by_replica = Counter(i for a in single for i in _handled_by(procs, a))
        assert set(by_replica) == {0, 1}, by_replica     # the single clicks were spread over both replicas
        for alert_id, action in double.items():
            assert _handled_by(procs, alert_id) == [0, 1], (alert_id, action)     # both replicas got it
        updates = Counter(c.args.get("ts") for c in slack.calls if c.method == "chat.update")
        for alert_id, action in actions.items():
            kinds = [e["kind"] for e in store.query("SELECT kind FROM alert_events WHERE alert_id = ?", (alert_id,))]
            assert kinds.count(want[action][1]) == 1, (alert_id, action, kinds)       # one transition
            assert updates[roots[alert_id]] == 1, (alert_id, action, updates[roots[alert_id]])   # one update
            replies = [c for c in slack.posts() if c.args.get("thread_ts") == roots[alert_id]]
            assert len(replies) == 1, (alert_id, action, [c.args.get("text") for c in replies])
        kept = store.one("SELECT COUNT(*) AS n FROM feedback WHERE alert_id = ?", (ids[5],))["n"]
        assert kept == 1                                  # "not negative" twice keeps the mention once
        # the replica that lost the race tells its user so, or says nothing; never an error
        answers = [r.get("text", "") for r in slack.responses]
        assert all("already" in t for t in answers), answers
        assert not [line for p in procs for line in p.lines if " ERROR " in line or "crashed" in line]
        print(f"{transport}: clicks per replica {dict(by_replica)}, double clicks handled by both, "
              f"answers to the losing click: {len(answers)}")
    finally:
        for p in procs:
            p.__exit__()
        store.close()
        feeds.stop()
        slack.stop()
