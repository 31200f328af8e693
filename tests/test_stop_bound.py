"""The whole stop keeps `daemon.drain_timeout`: polls, sends, tickets, streams and closing share one deadline.

Regression (round 21): the drain waited for polls and sends against the bound, then joined the stream threads
with a bound of their own (10 s) and closed the store with another (the lease thread's 5 s), so a stream stuck
where no interrupt reaches it (a server that accepts the TCP connection and never answers the WebSocket
upgrade) made a 3 s stop take 13 s.

Regression (round 22): that stream was then bounded but abandoned, its thread left in the handshake until
`connect_timeout`; `interrupt()` now reaches a connection being opened, so it ends at once and the drain
abandons nothing.
"""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from tests.conftest import write_config
from tests.fakes.jetstream import FakeJetstream
from tests.fakes.process import MonitorProcess
from tests.fakes.slack import TOKEN

DRAIN_S = 3.0


def _wait(cond, daemon: MonitorProcess, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{daemon.log()}")
        time.sleep(0.02)


def _rows(tmp_path, sql: str) -> list[sqlite3.Row]:
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        db.row_factory = sqlite3.Row
        return list(db.execute(sql))


@pytest.mark.slow
def test_a_stuck_stream_and_a_slow_send_stop_within_the_drain_bound_losing_nothing_sending_nothing_twice(
        tmp_path, fake_slack):
    fake_slack.post_delay = 2.0                      # a slow Slack: each post answers two seconds late
    with FakeJetstream() as js:
        times = [js.add_post(f"acme support is terrible, refund denied, order {n} lost", rkey=f"k{n}")
                 for n in ("alpha", "bravo", "charlie")]
        js.add_post("just a day at the beach", rkey="beach")
        js.drop_after = [3]                          # the first connection is cut after the three posts...
        js.stall_from = 1                            # ...and every reconnection hangs in its handshake
        source = (f"- id: bsky\n  kind: jetstream\n  url: {js.url}\n  rewind: 0s\n  batch_size: 1\n"
                  "  cursor_every: 50ms\n  once_budget: 2s\n")
        cfg, rules = write_config(tmp_path, sources=source, slack_url=fake_slack.api_url,
                                  extra=f"daemon:\n  drain_timeout: {DRAIN_S:g}s\n")
        cfg.write_text(cfg.read_text().replace("http:\n", "http:\n  connect_timeout: 30s\n"))
        args = ["run", "--config", str(cfg), "--rules", str(rules)]
        with MonitorProcess(args, env={"SLACK_BOT_TOKEN": TOKEN}) as daemon:
            _wait(lambda: js.handshakes >= 2, daemon, "the stream to reconnect into the stalled handshake")
            _wait(lambda: len(fake_slack.posts()) >= 1, daemon, "a Slack post in progress")
            log = daemon.stop_within(DRAIN_S, 1.5, "the whole stop")     # the bound is the promise
        # the stream stalled in its handshake was interrupted there: nothing is abandoned (the send finishes)
        assert "drain bound reached" not in log and "stopped" in log, log

        # the stream's cursor covers exactly what it stored: the three posts, nothing beyond
        (row,) = _rows(tmp_path, "SELECT cursor FROM sources WHERE id = 'bsky'")
        assert json.loads(row["cursor"]) == times[-1]
        assert len(_rows(tmp_path, "SELECT id FROM mentions")) == 3

        # the next run resumes the stream from that cursor and delivers what was left: each alert once
        js.stall_from = None
        with MonitorProcess([*args, "--once"], env={"SLACK_BOT_TOKEN": TOKEN}) as again:
            assert again.wait(timeout=60) == 0, again.log()
        assert js.connections[-1].query.get("cursor") == str(times[-1])
    assert len(_rows(tmp_path, "SELECT id FROM mentions")) == 3
    alerts = len(_rows(tmp_path, "SELECT id FROM alerts"))
    assert {r["state"] for r in _rows(tmp_path, "SELECT state FROM deliveries")} == {"sent"}
    texts = [p.args["text"] for p in fake_slack.posts()]
    assert alerts >= 1 and len(texts) == alerts and len(set(texts)) == len(texts), texts
