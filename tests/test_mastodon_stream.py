"""Mastodon streaming: live statuses over SSE, gaps closed through the REST timeline, tokens, bad events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from monitor.runtime.daemon import run_once
from monitor.store.database import Store
from tests.conftest import write_config
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.process import MonitorProcess, mentions_in
from tests.fakes.slack import TOKEN
from tests.streams_helpers import make_app, running, stop_when, stored_ids, wait_for


def _source(srv: FakeMastodon, extra: str = "", key: str = "instance") -> str:
    return f"""\
        - id: masto
          kind: mastodon-stream
          {key}: {srv.url}
          hashtag: "#acme"
          rewind: 0s
    """.rstrip(" ") + extra


def test_disconnect_mid_stream_backfills_the_gap_nothing_lost_or_duplicated(tmp_path):
    with FakeMastodon() as srv:
        srv.drop_after = [3]                     # the first stream ends after 3 updates
        gap_posted = threading.Event()

        def during_reconnect_delay(_s: float) -> bool:
            if not gap_posted.is_set():          # posted while we are disconnected: the stream never sends these
                for i in range(45):              # more than one REST page (40)
                    srv.post(f"acme refund denied, gap {i}")
                gap_posted.set()
            return False

        app = make_app(tmp_path, _source(srv))
        try:
            with running(app, sleep=during_reconnect_delay) as runner:
                wait_for(lambda: len(srv.streams) == 1, what="first stream")
                live1 = [srv.post(f"acme is broken again {i}") for i in range(3)]
                srv.post("unrelated", tag="other")
                wait_for(lambda: len(srv.streams) == 2, what="reconnection")
                wait_for(lambda: len(stored_ids(app)) == 48, what="gap backfilled")
                live2 = [srv.post(f"acme app crashed {i}") for i in range(2)]
                wait_for(lambda: len(stored_ids(app)) == 50, what="live after reconnect")
            gap = [s for s in srv.statuses if "gap" in s["content"]]
            expected = [s["uri"] for s in live1 + gap + live2]
            assert sorted(stored_ids(app)) == sorted(expected)
            # the gap was asked for from the last status read, then paged on
            first_page, second_page = srv.timeline_requests[:2]
            assert first_page["min_id"] == live1[-1]["id"]
            assert second_page["min_id"] == gap[39]["id"]
            per_mention = app.store.query("SELECT mention_id, COUNT(*) AS n FROM alert_mentions GROUP BY mention_id")
            assert all(r["n"] == 1 for r in per_mention) and len(per_mention) == 50
            saved = json.loads(app.store.one("SELECT cursor FROM sources")["cursor"])
            assert saved == live2[-1]["id"]
            assert runner.stats.reconnects >= 1
        finally:
            app.close()


def test_regression_interrupt_reaches_a_stream_request_not_yet_answered_nothing_lost(tmp_path):
    """Regression: `interrupt()` closed the open response only. A reconnection whose request the instance
    never answered had none yet, so the stream's thread held until the fetch deadline (30 s here) and the
    daemon's stop reported it abandoned."""
    with FakeMastodon() as srv:
        srv.drop_after, srv.stall_from = [2], 1   # two updates, the stream ends, the next request hangs

        posted: list[dict] = []

        def post_two() -> bool:                   # once the first stream is open (Mastodon does not replay)
            if srv.streams and not posted:
                posted.extend(srv.post(f"acme refund denied {i}") for i in range(2))
            return srv.stream_requests >= 2

        app = make_app(tmp_path, _source(srv), http="  deadline: 30s\n")
        try:
            sw = stop_when(app, post_two)
            sw.assert_within(0.0, 0.5, "stopping a stream whose request is not answered")
            assert sorted(stored_ids(app)) == sorted(s["uri"] for s in posted)
            row = app.store.one("SELECT cursor, last_error FROM sources WHERE id = 'masto'")
            assert json.loads(row["cursor"]) == posted[-1]["id"]
            assert "interrupted" not in (row["last_error"] or ""), dict(row)
        finally:
            app.close()


def test_regression_interrupt_reaches_a_slow_backfill_page_cursor_kept_rest_fetched_after_restart(tmp_path, caplog):
    """Regression: the back-fill after a reconnection fetched its pages outside `opening`, so `interrupt()` did
    not reach a page the instance was slow to answer: the stream's thread held until the fetch deadline (30 s
    here) and the daemon's stop reported it abandoned. Now the stop cuts the page, says so, keeps the cursor
    at the last status stored, and the next start fetches the rest, each status once."""
    with FakeMastodon() as srv:
        srv.drop_after = [2]                      # the first stream ends after two updates...
        srv.slow_timeline_from = 1                # ...the gap's first page answers, its second is slow
        posted: list[dict] = []

        def burst() -> bool:                      # 2 read live, then 45 missed while reconnecting (> 1 page)
            if srv.streams and not posted:
                posted.extend(srv.post_many([f"acme refund denied {i}" for i in range(47)]))
            return len(srv.timeline_requests) >= 2

        live, gap = posted[:2], posted[2:]
        app = make_app(tmp_path, _source(srv), http="  deadline: 30s\n")
        try:
            with caplog.at_level("WARNING", logger="monitor.sources.kinds.mastodon_stream"):
                sw = stop_when(app, burst)
            sw.assert_within(0.0, 0.5, "stopping a stream in a slow back-fill")
            live, gap = posted[:2], posted[2:]
            assert sorted(stored_ids(app)) == sorted(s["uri"] for s in live + gap[:40])
            assert json.loads(app.store.one("SELECT cursor FROM sources WHERE id = 'masto'")["cursor"]) \
                == gap[39]["id"]
            assert f"back-fill cut (stopping) after 1 page(s): the statuses after {gap[39]['id']}" in caplog.text

            srv.slow_timeline_from = None         # restarted: the rest of the gap comes, nothing twice
            asked = len(srv.timeline_requests)
            with running(app):
                wait_for(lambda: len(stored_ids(app)) == 47, what="the rest of the gap")
            assert srv.timeline_requests[asked]["min_id"] == gap[39]["id"]
            assert sorted(stored_ids(app)) == sorted(s["uri"] for s in posted)
            per_mention = app.store.query("SELECT mention_id, COUNT(*) AS n FROM alert_mentions GROUP BY mention_id")
            assert len(per_mention) == 47 and all(r["n"] == 1 for r in per_mention)
        finally:
            app.close()


@pytest.mark.slow
def test_a_daemon_stopped_in_a_slow_backfill_stops_within_its_drain_bound_and_the_next_start_fetches_the_rest(
        tmp_path, fake_slack):
    """The whole daemon, a real process: SIGTERM while the back-fill after a reconnection waits on a page the
    instance is slow to answer (30 s). It exits 0 within `daemon.drain_timeout` (3 s), the page cut and said,
    the cursor at the last status stored; the next start fetches the rest from there, each status once."""
    with FakeMastodon() as srv:
        srv.drop_after = [2]                      # the first stream ends after two updates...
        srv.slow_timeline_from = 1                # ...the gap's first page answers, its second is slow
        cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=_source(srv),
                                  extra="daemon:\n  drain_timeout: 3s\n")
        cfg.write_text(cfg.read_text().replace("http:\n", "http:\n  deadline: 30s\n"))
        args = ["run", "--config", str(cfg), "--rules", str(rules)]
        with MonitorProcess(args, env={"SLACK_BOT_TOKEN": TOKEN}) as daemon:
            wait_for(lambda: len(srv.streams) == 1, timeout=30, what="daemon connected")
            posted = srv.post_many([f"acme refund denied {i}" for i in range(47)])   # 2 live, 45 missed
            wait_for(lambda: len(srv.timeline_requests) >= 2, timeout=30, what="the slow back-fill page")
            log = daemon.stop_within(3.0, 1.5, "a daemon stopped in a slow back-fill")
        live, gap = posted[:2], posted[2:]
        assert "drain bound reached" not in log, log
        assert f"back-fill cut (stopping) after 1 page(s): the statuses after {gap[39]['id']}" in log, log
        db = tmp_path / "monitor.db"
        assert mentions_in(db) == 42
        srv.slow_timeline_from = None             # restarted: the rest of the gap comes, nothing twice
        asked = len(srv.timeline_requests)
        with MonitorProcess(args, env={"SLACK_BOT_TOKEN": TOKEN}) as again:
            wait_for(lambda: mentions_in(db) == 47, timeout=30, what="the rest of the gap")
            again.stop_within(3.0, 1.5, "the restarted daemon")
        assert srv.timeline_requests[asked]["min_id"] == gap[39]["id"]
    s = Store(db)
    try:
        got = sorted(r["external_id"] for r in s.query("SELECT external_id FROM mentions"))
        assert got == sorted(x["uri"] for x in live + gap)
        per_mention = s.query("SELECT mention_id, COUNT(*) AS n FROM alert_mentions GROUP BY mention_id")
        assert len(per_mention) == 47 and all(r["n"] == 1 for r in per_mention)
    finally:
        s.close()


def test_malformed_events_are_skipped_and_counted(tmp_path):
    with FakeMastodon() as srv:
        app = make_app(tmp_path, _source(srv))
        try:
            with running(app) as runner:
                wait_for(lambda: len(srv.streams) == 1, what="stream")
                srv.post_raw("update", "{not json")
                srv.post_raw("update", '{"content": "acme without an id"}')
                srv.post_raw("delete", "109999")                 # not an update: ignored, not malformed
                ok = srv.post("acme support never answers")
                wait_for(lambda: len(stored_ids(app)) == 1, what="the good status")
                wait_for(lambda: runner.stats.malformed == 2, what="counted")
            assert stored_ids(app) == [ok["uri"]]
            row = app.store.one("SELECT author, reach, url, language FROM mentions")
            assert row == {"author": "jane@example.social", "reach": 10, "url": ok["url"], "language": "en"}
        finally:
            app.close()


def test_token_from_env_is_sent(tmp_path, monkeypatch):
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "masto-secret-token")
    with FakeMastodon(token="masto-secret-token") as srv:
        app = make_app(tmp_path, _source(srv, "          token_env: MASTODON_ACCESS_TOKEN\n"))
        try:
            with running(app):
                wait_for(lambda: len(srv.streams) == 1, what="authorized stream")
                srv.post("acme lost my parcel")
                wait_for(lambda: len(stored_ids(app)) == 1, what="stored")
            assert all(r.headers.get("authorization") == "Bearer masto-secret-token" for r in srv.requests)
        finally:
            app.close()


@pytest.mark.parametrize("env_token", [None, "wrong-token"])
def test_missing_or_refused_token_stops_the_stream_with_a_reason(tmp_path, monkeypatch, env_token):
    if env_token:
        monkeypatch.setenv("MASTODON_ACCESS_TOKEN", env_token)
    else:
        monkeypatch.delenv("MASTODON_ACCESS_TOKEN", raising=False)
    with FakeMastodon(token="right-token") as srv:
        app = make_app(tmp_path, _source(srv, "          token_env: MASTODON_ACCESS_TOKEN\n"))
        try:
            with running(app):
                wait_for(lambda: (app.store.one("SELECT disabled_reason FROM sources") or {}).get("disabled_reason"),
                         what="disabled")
            reason = app.store.one("SELECT disabled_reason FROM sources")["disabled_reason"]
            assert ("is not set" in reason) if env_token is None else ("HTTP 401" in reason)
            assert "right-token" not in reason and (env_token is None or env_token not in reason)
        finally:
            app.close()


def test_run_once_reads_the_timeline_from_the_cursor(tmp_path):
    with FakeMastodon() as srv:
        old = srv.post("acme was slow last week")
        app = make_app(tmp_path, _source(srv))
        try:
            run_once(app, delivery_budget_s=1)               # no cursor yet: the newest page
            assert stored_ids(app) == [old["uri"]] and srv.streams == []
            new = [srv.post(f"acme outage {i}") for i in range(3)]
            summary = run_once(app, delivery_budget_s=1)
            assert summary["new_mentions"] == 3
            assert "min_id" not in srv.timeline_requests[0] and srv.timeline_requests[1]["min_id"] == old["id"]
            assert sorted(stored_ids(app)) == sorted([old["uri"]] + [s["uri"] for s in new])
        finally:
            app.close()


def test_api_url_names_the_instance_as_in_every_kind(tmp_path):
    """`api_url` is the key every kind with a remote endpoint takes; `instance` (the older name) still works."""
    with FakeMastodon() as srv:
        old = srv.post("acme was slow last week")
        app = make_app(tmp_path, _source(srv, key="api_url"))
        try:
            assert app.config.sources[0].instance == srv.url      # type: ignore[attr-defined]
            run_once(app, delivery_budget_s=1)
            assert stored_ids(app) == [old["uri"]] and len(srv.timeline_requests) == 1
        finally:
            app.close()


@pytest.mark.slow
def test_kill_9_and_restart_backfills_with_no_gap_and_no_duplicate(tmp_path, fake_slack):
    with FakeMastodon() as srv:
        cfg, rules = write_config(tmp_path, slack_url=fake_slack.api_url, sources=_source(srv))
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN}
        cmd = [sys.executable, "-m", "monitor", "run", "--config", str(cfg), "--rules", str(rules)]
        db = tmp_path / "monitor.db"

        def count() -> int:
            return mentions_in(db)

        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: len(srv.streams) == 1, timeout=30, what="daemon connected")
            before = [srv.post(f"acme refund denied {i}") for i in range(5)]
            wait_for(lambda: count() == 5, what="stored before the kill")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
        while_dead = [srv.post(f"acme outage while down {i}") for i in range(7)]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: count() == 12, timeout=30, what="backfilled after restart")
            wait_for(lambda: len(srv.streams) == 2, what="live again")
            after = srv.post("acme still down, awful")
            wait_for(lambda: count() == 13, what="live after restart")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        assert srv.timeline_requests[-1]["min_id"] == before[-1]["id"]
        s = Store(db)
        try:
            got = sorted(r["external_id"] for r in s.query("SELECT external_id FROM mentions"))
            assert got == sorted(x["uri"] for x in before + while_dead + [after])
            per_mention = s.query("SELECT mention_id, COUNT(*) AS n FROM alert_mentions GROUP BY mention_id")
            assert len(per_mention) == 13 and all(r["n"] == 1 for r in per_mention)
        finally:
            s.close()
