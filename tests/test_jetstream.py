"""Bluesky Jetstream stream: resume from the cursor after a drop or a kill -9, malformed frames, batching."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from monitor.runtime.daemon import run_once
from monitor.store.database import Store
from tests.conftest import write_config
from tests.fakes.jetstream import FakeJetstream
from tests.fakes.process import mentions_in
from tests.fakes.slack import TOKEN
from tests.streams_helpers import make_app, running, stop_when, stored_ids, wait_for


def _source(js: FakeJetstream, extra: str = "", key: str = "url") -> str:
    return f"""\
        - id: bsky
          kind: jetstream
          {key}: {js.url}
          rewind: 0s
          batch_size: 5
          cursor_every: 50ms
    """.rstrip(" ") + extra


def _load(js: FakeJetstream, n: int, every: int = 10) -> list[str]:
    """n posts, one in `every` about acme (negative); returns the AT URIs that must be stored."""
    wanted = []
    for i in range(n):
        if i % every == 0:
            t = js.add_post(f"acme support is terrible, refund denied ({i})", rkey=f"k{i}")
            wanted.append(f"at://did:plc:fakeuser/app.bsky.feed.post/k{i}")
        else:
            t = js.add_post(f"just a day at the beach {i}", rkey=f"k{i}")
    assert t
    return wanted


def test_disconnect_mid_stream_resumes_from_cursor_nothing_lost_or_duplicated(tmp_path):
    with FakeJetstream() as js:
        wanted = _load(js, 300)
        js.drop_after = [100, 80]               # two network cuts, no close frame
        app = make_app(tmp_path, _source(js))
        try:
            with running(app) as runner:
                wait_for(lambda: len(js.connections) == 3 and js.connections[2].sent >= 120, what="replay")
                wait_for(lambda: runner.stats.events >= 300 and len(stored_ids(app)) == 30, what="all stored")
            assert sorted(stored_ids(app)) == sorted(wanted)
            # each reconnection asked for exactly the last event it had read: no gap, one event of overlap
            first, second, third = js.connections
            assert "cursor" not in first.query
            assert first.sent == 100 and second.sent == 80
            times = [json.loads(f)["time_us"] for f in js._frames]
            assert int(second.query["cursor"]) == times[99]
            assert int(third.query["cursor"]) == times[99 + 79]
            assert js.frames_sent == 300 + 2                  # the two overlap frames, nothing more
            # every negative post opened exactly one alert
            per_mention = app.store.query("SELECT mention_id, COUNT(*) AS n FROM alert_mentions GROUP BY mention_id")
            assert len(per_mention) == 30 and all(r["n"] == 1 for r in per_mention)
            assert runner.stats.reconnects == 2
            row = app.store.one("SELECT cursor, consecutive_failures FROM sources WHERE id = 'bsky'")
            assert json.loads(row["cursor"]) == times[-1] and row["consecutive_failures"] == 0
        finally:
            app.close()


def test_regression_interrupt_reaches_a_reconnect_stalled_in_its_handshake_nothing_lost(tmp_path):
    """Regression: `interrupt()` closed the live WebSocket only. A reconnect hung in its handshake (the server
    took the TCP connection and never answered the upgrade) had none yet, so the stream's thread held until
    `connect_timeout` (30 s here) and the daemon's stop reported it abandoned."""
    with FakeJetstream() as js:
        wanted = _load(js, 3, every=1)
        js.add_post("just a day at the beach", rkey="beach")
        times = [json.loads(f)["time_us"] for f in js._frames]
        js.drop_after, js.stall_from = [3], 1        # the three posts, a cut, then a reconnect that hangs
        app = make_app(tmp_path, _source(js), http="  connect_timeout: 30s\n")
        try:
            sw = stop_when(app, lambda: js.handshakes >= 2)
            sw.assert_within(0.0, 0.5, "stopping a stream stalled in its handshake")
            # the position is the one saved with the three posts: nothing read was lost, nothing skipped
            row = app.store.one("SELECT cursor, consecutive_failures, last_error FROM sources WHERE id = 'bsky'")
            assert json.loads(row["cursor"]) == times[2]
            assert sorted(stored_ids(app)) == sorted(wanted)
            # our own stop is not a failure of the source: only the cut counts
            assert row["consecutive_failures"] == 1 and "interrupted" not in (row["last_error"] or ""), dict(row)
        finally:
            app.close()


def test_malformed_frames_are_skipped_and_counted(tmp_path):
    with FakeJetstream() as js:
        js.add_post("acme broke my order", rkey="a1")
        js.add_raw("this is not json")
        js.add_raw("[1, 2, 3]")
        js.add_raw('{"kind": "commit", "commit": {}}')                       # no time_us
        js.add_raw('{"time_us": "soon", "kind": "commit"}')                  # time_us not an integer
        js.add_event({"did": "did:plc:x", "kind": "commit", "commit": {
            "operation": "create", "collection": "app.bsky.feed.post", "rkey": "z", "record": {"text": 42}}})
        js.add_event({"did": "did:plc:x", "kind": "identity", "identity": {}})   # not a post: ignored, not malformed
        js.add_post("acme is fine again", rkey="a2")
        app = make_app(tmp_path, _source(js))
        try:
            with running(app) as runner:
                wait_for(lambda: len(stored_ids(app)) == 2 and runner.stats.events >= 3, what="both posts")
            assert runner.stats.malformed == 5
            assert runner.stats.events == 3          # the 2 posts and the identity event
            row = app.store.one("SELECT malformed, matched FROM stream_status WHERE source_id = 'bsky'")
            assert row == {"malformed": 5, "matched": 2}
        finally:
            app.close()


def test_only_posts_matching_a_brand_are_stored(tmp_path):
    with FakeJetstream() as js:
        js.add_post("Acme's new app is slow", rkey="m1")
        js.add_post("acme brick is the best brick", rkey="x1")          # excluded by NOT "acme brick"
        js.add_post("nothing to see", rkey="x2")
        js.add_post("#acme love it", rkey="m2")
        app = make_app(tmp_path, _source(js))
        try:
            with running(app) as runner:
                wait_for(lambda: runner.stats.events == 4, what="4 events")
            assert sorted(stored_ids(app)) == [f"at://did:plc:fakeuser/app.bsky.feed.post/m{i}" for i in (1, 2)]
            row = app.store.one("SELECT url, author, source_kind, status FROM mentions ORDER BY id LIMIT 1")
            assert row["url"] == "https://bsky.app/profile/did:plc:fakeuser/post/m1"
            assert row["source_kind"] == "jetstream" and row["status"] in ("routed", "matched")
        finally:
            app.close()


def test_refused_handshake_stops_the_stream_and_says_why(tmp_path):
    with FakeJetstream() as js:
        js.reject_status = 401
        app = make_app(tmp_path, _source(js))
        try:
            with running(app):
                wait_for(lambda: (app.store.one("SELECT disabled_reason FROM sources") or {}).get("disabled_reason"),
                         what="disabled")
            row = app.store.one("SELECT disabled_reason FROM sources WHERE id = 'bsky'")
            assert "HTTP 401" in row["disabled_reason"]
            notice = app.store.one("SELECT payload FROM deliveries WHERE kind = 'notice'")
            assert notice and "bsky" in notice["payload"]
        finally:
            app.close()


def test_zstd_frames_with_a_dictionary(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    samples = [json.dumps({"time_us": i, "kind": "commit", "commit": {"text": f"sample post {i} acme"}}).encode()
               for i in range(400)]
    zdict = zstandard.train_dictionary(4096, samples).as_bytes()
    (tmp_path / "zstd_dictionary").write_bytes(zdict)
    with FakeJetstream(zstd_dictionary=zdict) as js:
        wanted = _load(js, 40)
        app = make_app(tmp_path, _source(js, f"""\
          compress: true
          zstd_dictionary: {tmp_path / 'zstd_dictionary'}
        """))
        try:
            with running(app) as runner:
                wait_for(lambda: runner.stats.events == 40, what="40 events")
            assert js.connections[0].query.get("compress") == "true"
            assert sorted(stored_ids(app)) == sorted(wanted) and runner.stats.malformed == 0
        finally:
            app.close()


def test_run_once_catches_up_from_the_saved_cursor(tmp_path):
    with FakeJetstream() as js:
        app = make_app(tmp_path, _source(js, "          once_budget: 1s\n"))
        try:
            first = run_once(app, delivery_budget_s=1)          # first run: marks where the next one starts
            assert first["streams"] == 1 and first["new_mentions"] == 0 and js.connections == []
            start = json.loads(app.store.one("SELECT cursor FROM sources")["cursor"])
            js._next_us = start + 1_000                        # these happen after the first run
            wanted = _load(js, 50)
            time.sleep(0.3)                                     # ...and are all in the past now
            second = run_once(app, delivery_budget_s=1)
            assert int(js.connections[0].query["cursor"]) == start
            assert second["new_mentions"] == 5 and sorted(stored_ids(app)) == sorted(wanted)
        finally:
            app.close()


def test_api_url_names_the_endpoint_as_in_every_kind(tmp_path):
    """`api_url` is the key every kind with a remote endpoint takes; `url` (the older name) still works."""
    with FakeJetstream() as js:
        wanted = _load(js, 20)
        app = make_app(tmp_path, _source(js, key="api_url"))
        try:
            assert app.config.sources[0].url == js.url          # type: ignore[attr-defined]
            with running(app):
                wait_for(lambda: len(stored_ids(app)) == 2, what="stored through api_url")
            assert sorted(stored_ids(app)) == sorted(wanted) and len(js.connections) == 1
        finally:
            app.close()


@pytest.mark.slow
def test_kill_9_and_restart_resume_with_no_gap_and_no_duplicate(tmp_path, fake_slack):
    with FakeJetstream() as js:
        wanted = _load(js, 3000, every=20)          # 150 matched among 3,000
        js.pace = 0.002                              # ~6s of stream, so the kill lands mid-way
        cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=_source(js))
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN}
        cmd = [sys.executable, "-m", "monitor", "run", "--config", str(cfg), "--rules", str(rules)]
        db = tmp_path / "monitor.db"

        def count() -> int:
            return mentions_in(db)

        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: count() >= 30, timeout=30, what="a first part stored")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
        s = Store(db)
        saved = json.loads(s.one("SELECT cursor FROM sources WHERE id = 'bsky'")["cursor"])
        at_kill = s.one("SELECT COUNT(*) AS n FROM mentions")["n"]
        s.close()
        assert 30 <= at_kill < len(wanted), "the kill must land mid-stream"

        js.pace = 0.0
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: count() == len(wanted), timeout=60, what="everything stored after restart")
            time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        assert int(js.connections[-1].query["cursor"]) == saved      # resumed exactly where it had saved
        s = Store(db)
        try:
            assert sorted(r["external_id"] for r in s.query("SELECT external_id FROM mentions")) == sorted(wanted)
            per_mention = s.query("SELECT mention_id, COUNT(*) AS n FROM alert_mentions GROUP BY mention_id")
            assert len(per_mention) == len(wanted) and all(r["n"] == 1 for r in per_mention)
            assert s.one("SELECT COUNT(*) AS n FROM mentions WHERE processed_at IS NULL")["n"] == 0
        finally:
            s.close()


def test_status_and_check_show_the_stream(tmp_path, capsys):
    from monitor.cli import main

    with FakeJetstream() as js:
        wanted = _load(js, 20)
        app = make_app(tmp_path, _source(js))
        try:
            with running(app) as runner:
                wait_for(lambda: runner.stats.events == 20 and len(stored_ids(app)) == len(wanted), what="read")
                wait_for(lambda: (app.store.one("SELECT events FROM stream_status") or {}).get("events") == 20,
                         what="status written")
                args = ["--config", str(tmp_path / "monitor.yaml"), "--rules", str(tmp_path / "rules.yaml")]
                capsys.readouterr()
                main(["status", "--json", *args])
                report = json.loads(capsys.readouterr().out)
                stream = report["sources"][0]["stream"]
                assert stream["connected"] is True and stream["events"] == 20 and stream["matched"] == 2
                assert stream["lag"] is not None and stream["malformed"] == 0
                main(["status", *args])
                assert "stream connected; last event" in capsys.readouterr().out
            main(["status", "--json", *args])
            assert json.loads(capsys.readouterr().out)["sources"][0]["stream"]["connected"] is False
            assert main(["check", *args]) == 0
            assert "jetstream   stream" in capsys.readouterr().out
        finally:
            app.close()


def test_regression_disconnected_stream_is_a_problem_for_status(tmp_path, capsys):
    """Regression: a stream disconnected for long, or that never connected, was no problem for `monitor status`
    (only a 'disconnected' word in its line). Now a stream not connected for over STREAM_DOWN_GRACE_S is a
    problem (exit 1), said in plain words; a `run --once` pass that caught up clears it (cron mode)."""
    from monitor.cli import main
    from monitor.ops.health import STREAM_DOWN_GRACE_S

    def status() -> tuple[int, dict]:
        capsys.readouterr()
        code = main(["status", "--json", "--config", str(tmp_path / "monitor.yaml"), "--rules",
                     str(tmp_path / "rules.yaml")])
        return code, json.loads(capsys.readouterr().out)

    def bsky_problems(rep: dict) -> list[str]:
        return [p for p in rep["problems"] if p.startswith("source bsky:")]

    with FakeJetstream() as js:
        _load(js, 5)
        app = make_app(tmp_path, _source(js, "          once_budget: 1s\n"))
        try:
            with running(app) as runner:
                wait_for(lambda: runner.stats.connected, what="connected")
                wait_for(lambda: (app.store.one("SELECT connected FROM stream_status") or {}).get("connected") == 1,
                         what="status written")
                assert app.store.one("SELECT down_since FROM stream_status")["down_since"] is None
                assert bsky_problems(status()[1]) == []
            row = app.store.one("SELECT down_since FROM stream_status")           # stopped: down from now
            assert row["down_since"] is not None and abs(row["down_since"] - time.time()) < 30
            assert bsky_problems(status()[1]) == []                              # within the grace period
            with app.store.tx() as db:                                           # ...and long after it
                db.execute("UPDATE stream_status SET down_since = ?, updated_at = ?",
                           (time.time() - STREAM_DOWN_GRACE_S - 600, time.time() - STREAM_DOWN_GRACE_S - 600))
            code, rep = status()
            assert code == 1 and rep["healthy"] is False
            [p] = bsky_problems(rep)
            assert p.startswith("source bsky: stream not connected for 20m") and "is `monitor run`" in p, p
            assert rep["sources"][0]["stream"]["down_for_s"] >= STREAM_DOWN_GRACE_S
            capsys.readouterr()
            main(["status", "--config", str(tmp_path / "monitor.yaml")])
            assert "stream not running (no daemon) for 20m" in capsys.readouterr().out
            from monitor.ops.metrics import StoreCollector
            [gauge] = [m for m in StoreCollector(str(app.store.path)).collect() if m.name == "monitor_stream_down_seconds"]
            assert gauge.samples[0].labels == {"source": "bsky"} and gauge.samples[0].value >= STREAM_DOWN_GRACE_S

            # never connected: a couple of failed attempts (under failure_alert_after), down for long
            with app.store.tx() as db:
                db.execute("UPDATE sources SET last_success = NULL, consecutive_failures = 2,"
                           " last_error = 'connection refused'")
            [p] = bsky_problems(status()[1])
            assert p.startswith("source bsky: stream has never connected (trying for 20m") and "2 connection" in p

            run_once(app, delivery_budget_s=1)                  # cron mode: a pass that caught up is healthy
            assert app.store.one("SELECT down_since FROM stream_status")["down_since"] is None
            assert bsky_problems(status()[1]) == []
        finally:
            app.close()
