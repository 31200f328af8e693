"""kill -9 the delivering daemon at random points, many times: no alert lost, at most one duplicate per kill."""

from __future__ import annotations

import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from monitor.core.clock import SystemClock
from monitor.core.model import Target
from monitor.notify.queue import enqueue
from monitor.store.database import Store
from tests.conftest import write_config
from tests.fakes.process import kill9_loop, run_until
from tests.fakes.slack import TOKEN, FakeSlack
from tests.timing import slowness

CHANNELS = [Target("comms-oncall", "#comms-alerts"), Target("security", "#security-incidents"),
            Target("head-of-comms", "@U0HEAD")]
N = 45
BUDGET_S = 45.0


def _sent(db: Path) -> int:
    store = Store(db, SystemClock())
    try:
        return store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'sent'")["n"]
    finally:
        store.close()


@pytest.mark.slow
def test_kill_9_during_delivery_loses_nothing_and_duplicates_at_most_one_per_kill(tmp_path):
    rng = random.Random(int(os.environ.get("CRASH_SEED", "0")) or None)
    with FakeSlack(post_delay=0.02) as slack:
        cfg, rules = write_config(tmp_path, sources="[]\n", slack_url=slack.api_url)
        cfg.write_text(cfg.read_text().replace("slack:\n", "slack:\n  interactive: off\n"))
        db = tmp_path / "monitor.db"
        store = Store(db, SystemClock())
        with store.tx() as tx:
            for i in range(N):
                t = CHANNELS[i % len(CHANNELS)]
                enqueue(tx, store.now(), f"crash:{i}", "post", t, {"text": f"alert {i:03d}"})
        store.close()
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN}
        env.pop("SLACK_APP_TOKEN", None)
        cmd = [sys.executable, "-m", "monitor", "run", "--config", str(cfg), "--rules", str(rules)]
        def all_sent() -> bool:
            return _sent(db) >= N

        kills = kill9_loop(cmd, env, done=all_sent, activity=lambda: len(slack.posts()),
                           pause=lambda: rng.uniform(0.0, 0.15),      # somewhere in the middle of delivering
                           # the budget is for 8 kills on a core of our own; a loaded box starts each daemon
                           # slower (round 22: 7 kills in 45 s at load 8 on 2 cores, before and after a refactor)
                           deadline=time.monotonic() + BUDGET_S * min(slowness(), 4.0))
        # then run to completion, and stop cleanly
        code, err = run_until(cmd, env, done=all_sent, timeout=30, step=0.05, stop_timeout=20)
        assert code == 0, err[-2000:]

        assert kills >= 8, f"only {kills} kills happened within the budget"
        texts = [c.args["text"] for c in slack.posts()]
        counts = Counter(texts)
        assert set(counts) == {f"alert {i:03d}" for i in range(N)}          # nothing lost
        duplicates = sum(n - 1 for n in counts.values())
        print(f"kills={kills} duplicates={duplicates} posts={len(texts)}")
        assert duplicates <= kills, (duplicates, kills)
        for t in CHANNELS:                                                    # order kept per channel
            firsts = list(dict.fromkeys(c.args["text"] for c in slack.posts(t.channel)))
            assert firsts == sorted(firsts)


def test_regression_fake_slack_served_half_a_request_from_a_killed_client():
    """A client killed mid-body left FakeSlack a truncated form, which it recorded as a chat.postMessage with
    no text (KeyError: 'text' in the kill -9 run above). Slack never serves half a request; neither may the
    fake."""
    import socket

    with FakeSlack() as slack:
        host, port = slack.api_url.split("//")[1].split("/")[0].split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(b"POST /api/chat.postMessage HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
                         b"channel=C1&te")
            sock.shutdown(socket.SHUT_WR)          # the client is gone before the rest of the body
            sock.settimeout(5)
            assert sock.recv(100) == b""           # no answer to half a request
        assert slack.posts() == []
