"""Replying from the terminal: a Mastodon mention -> alert -> `monitor reply` -> one reply to that status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.store.database import Store
from tests.conftest import RULES, write_config
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.process import kill9_loop, run_until
from tests.fakes.slack import TOKEN, FakeSlack

WRITE = "mastodon-write-token-0123456789"
REPLIES = """\
replies:
  - text: "Hi {first_name}, sorry about the {brand} outage. We are on it: https://status.acme.test"
    issue: outage
  - text: "Hi {first_name}, we're sorry to hear that. Could you DM us your order number? ({brand})"
    brand: acme
  - text: "Hola {first_name}, lo sentimos."
    brand: acme
    language: es
"""


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def world(tmp_path: Path):
    with FakeMastodon(write_token=WRITE) as masto, FakeSlack() as slack:
        cfg, rules = write_config(tmp_path, slack_url=slack.api_url, rules=RULES + REPLIES, sources=f"""\
            - id: fedi
              kind: mastodon
              instances: [{masto.url}]
              tags: [acme]
              token_env: TEST_MASTODON_TOKEN
              every: 1m
        """)
        env = {"SLACK_BOT_TOKEN": TOKEN, "TEST_MASTODON_TOKEN": WRITE}
        yield masto, slack, cfg, rules, env, tmp_path


def _alert_from_mastodon(world) -> tuple[int, dict]:
    masto, slack, cfg, rules, env, tmp = world
    status = masto.post("@acme your app is broken again, terrible service, I want a refund", acct="jane@example.social")
    run = cli("run", "--once", "--config", str(cfg), "--rules", str(rules), env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    store = Store(tmp / "monitor.db")
    try:
        alert = store.one("SELECT id FROM alerts")
    finally:
        store.close()
    assert alert, run.stderr[-2000:]
    return alert["id"], status


def test_reply_from_the_terminal_posts_one_reply_to_the_status_and_sets_first_response(world):
    masto, slack, cfg, rules, env, tmp = world
    alert_id, status = _alert_from_mastodon(world)

    draft = cli("reply", str(alert_id), "--draft", "--config", str(cfg), "--rules", str(rules), env=env)
    assert draft.returncode == 0, draft.stderr
    assert draft.stdout.strip() == "Hi jane, we're sorry to hear that. Could you DM us your order number? (acme)"
    assert "mastodon: at most 500 characters" in draft.stderr

    out = cli("reply", str(alert_id), "Hi jane, sorry! DM us please.", "--by", "amy", "--config", str(cfg),
              "--rules", str(rules), env=env)
    assert out.returncode == 0, out.stderr
    [reply] = masto.replies
    assert reply["form"]["in_reply_to_id"] == status["id"]
    assert reply["form"]["status"] == "Hi jane, sorry! DM us please."
    assert reply["authorization"] == f"Bearer {WRITE}"
    assert reply["idempotency_key"]
    assert out.stdout.strip() == reply["status"]["url"]

    listed = cli("alerts", "--json", "--config", str(cfg), "--rules", str(rules))
    row = next(json.loads(line) for line in listed.stdout.splitlines() if json.loads(line)["id"] == alert_id)
    assert row["first_response_by"] == "amy"
    assert row["time_to_first_response"] is not None and row["time_to_first_response"] >= 0

    # the thread note and the root message carry the reply's link once the outbox runs
    cli("run", "--once", "--config", str(cfg), "--rules", str(rules), env=env)
    texts = json.dumps([c.args for c in slack.calls if c.method in ("chat.postMessage", "chat.update")])
    assert reply["status"]["url"] in texts and "replied on mastodon" in texts

    one = cli("alerts", str(alert_id), "--config", str(cfg), "--rules", str(rules))
    assert "first response after" in one.stdout and "reply #1 posted" in one.stdout and reply["status"]["url"] in one.stdout

    status_out = cli("status", "--config", str(cfg), "--rules", str(rules))
    assert "median time to first response" in status_out.stdout


def test_a_refused_reply_is_one_line_and_exit_1_and_nothing_is_marked(world):
    masto, slack, cfg, rules, env, tmp = world
    alert_id, _ = _alert_from_mastodon(world)
    out = cli("reply", str(alert_id), "Sorry!", "--config", str(cfg), "--rules", str(rules),
              env={**env, "TEST_MASTODON_TOKEN": "revoked-token"})
    assert out.returncode == 1
    said = [line for line in out.stderr.splitlines() if line.startswith("monitor:")]   # the rest is the log
    assert len(said) == 1 and said[0] == out.stderr.strip().splitlines()[-1]
    assert said[0] == "monitor: mastodon refused the reply (HTTP 401): The access token is invalid"
    assert masto.replies == []
    store = Store(tmp / "monitor.db")
    try:
        assert store.one("SELECT first_response_at FROM alerts WHERE id = ?", (alert_id,))["first_response_at"] is None
        assert store.one("SELECT state FROM replies")["state"] == "failed"
    finally:
        store.close()


def test_too_long_is_refused_before_anything_is_stored(world):
    masto, slack, cfg, rules, env, tmp = world
    alert_id, _ = _alert_from_mastodon(world)
    out = cli("reply", str(alert_id), "word " * 120, "--config", str(cfg), "--rules", str(rules), env=env)
    assert out.returncode == 2
    assert "599 characters; mastodon allows at most 500" in out.stderr
    assert masto.replies == []


def test_a_503_then_429_is_retried_and_posted_once(world):
    masto, slack, cfg, rules, env, tmp = world
    alert_id, _ = _alert_from_mastodon(world)
    masto.post_faults = [(503, {}), (429, {"Retry-After": "1"})]
    out = cli("reply", str(alert_id), "Sorry about that!", "--config", str(cfg), "--rules", str(rules), env=env)
    assert out.returncode == 0, out.stderr
    assert len(masto.replies) == 1 and out.stdout.startswith("https://")


# -- kill -9 between the post and the mark ------------------------------------------------------------------

def _disabled_mastodon(masto: FakeMastodon) -> str:
    """The mastodon source replies are posted through, not polled (the test makes its alerts itself)."""
    return f"""\
        - id: fedi
          kind: mastodon
          instances: [{masto.url}]
          tags: [acme]
          token_env: TEST_MASTODON_TOKEN
          enabled: false
          every: 1m
    """


def _posted(db: Path) -> int:
    import sqlite3
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM replies WHERE state = 'posted'").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("honour_key", [True, False])
def test_kill_9_between_post_and_mark_posts_each_reply_at_most_once_more(tmp_path: Path, honour_key: bool):
    """With Mastodon honouring the Idempotency-Key, exactly once; without it, at most one extra post per kill."""
    import random
    import time
    from collections import Counter

    from monitor.config.rules import rules_from
    from monitor.config.settings import load_config
    from monitor.core.clock import SystemClock
    from monitor.core.yamlfile import parse_yaml
    from monitor.respond.replies import ReplyService
    from tests.alert_factory import make_alert

    n = 5
    rng = random.Random(int(os.environ.get("CRASH_SEED", "0")) or None)
    with FakeMastodon(write_token=WRITE) as masto, FakeSlack() as slack:
        masto.honour_idempotency = honour_key
        masto.create_delay = 0.2
        cfg, rules = write_config(tmp_path, slack_url=slack.api_url, sources=_disabled_mastodon(masto))
        cfg.write_text(cfg.read_text().replace("slack:\n", "slack:\n  interactive: off\n"))
        db = tmp_path / "monitor.db"
        store = Store(db, SystemClock())
        svc = ReplyService(store, lambda: rules_from(parse_yaml(RULES, "rules.yaml")), load_config(cfg), store.clock)
        for i in range(n):
            st = masto.post(f"acme is broken #{i}")
            alert_id = make_alert(store, source=("fedi", "mastodon"), text=f"Acme is broken #{i}, terrible",
                                  raw={"id": st["id"], "instance_url": masto.url})
            svc.submit(alert_id, f"Sorry about #{i}, please DM us.", "amy")
        svc.close()
        store.close()
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "TEST_MASTODON_TOKEN": WRITE}
        cmd = [sys.executable, "-m", "monitor", "run", "--config", str(cfg), "--rules", str(rules)]
        def done() -> bool:
            return _posted(db) >= n

        kills = kill9_loop(cmd, env, done=done, activity=lambda: len(masto.replies), max_kills=8,
                           pause=lambda: rng.uniform(0.0, 0.2),     # inside "posted, not yet marked" mostly
                           deadline=time.monotonic() + 60)
        code, err = run_until(cmd, env, done=done, timeout=60, step=0.1, stop_timeout=30)
        assert code == 0, err[-2000:]

        counts = Counter(r["form"]["status"] for r in masto.replies)
        duplicates = sum(c - 1 for c in counts.values())
        print(f"honour_key={honour_key} kills={kills} posts={len(masto.replies)} duplicates={duplicates}")
        assert set(counts) == {f"Sorry about #{i}, please DM us." for i in range(n)}       # nothing lost
        assert kills >= 3
        assert duplicates <= kills
        if honour_key:
            assert duplicates == 0
        assert _posted(db) == n


def test_reply_to_a_facebook_comment_from_the_terminal_goes_through_the_graph_api(tmp_path: Path):
    """The official-API posters are wired into `monitor reply` like Mastodon's: the collected comment's id,
    the source's Page token, one comment posted; the Graph API's refusal is one line and exit 1."""
    from tests.fakes.brands import FakeGraph, GraphItem

    page_token = "EAAG-page-token-0123456789"
    with FakeGraph(page_token) as fb, FakeSlack() as slack:
        fb.posts["101"] = [GraphItem("c1", "acme your app is broken again, terrible service, I want a refund",
                                     author="Jane Roe")]
        cfg, rules = write_config(tmp_path, slack_url=slack.api_url, rules=RULES + REPLIES, sources=f"""\
            - id: page
              kind: facebook
              page_id: acme
              include: [comments]
              api_url: {fb.url}
              page_token_env: TEST_FB_TOKEN
              every: 1m
        """)
        env = {"SLACK_BOT_TOKEN": TOKEN, "TEST_FB_TOKEN": page_token}
        run = cli("run", "--once", "--config", str(cfg), "--rules", str(rules), env=env)
        assert run.returncode == 0, run.stderr[-2000:]
        store = Store(tmp_path / "monitor.db")
        try:
            alert = store.one("SELECT id FROM alerts")
        finally:
            store.close()
        assert alert, run.stderr[-2000:]
        out = cli("reply", str(alert["id"]), "Hi Jane, so sorry! Check your DMs.", "--by", "amy", "--config",
                  str(cfg), "--rules", str(rules), env=env)
        assert out.returncode == 0, out.stderr
        assert fb.comments_made == [{"id": "101_9000", "parent": "101_c1", "message": "Hi Jane, so sorry! Check your DMs.",
                                     "auth": f"Bearer {page_token}"}]
        assert out.stdout.strip() == "https://www.facebook.com/101_9000"
        fb.can_write = False
        refused = cli("reply", str(alert["id"]), "Following up", "--config", str(cfg), "--rules", str(rules), env=env)
        assert refused.returncode == 1
        assert refused.stderr.strip().splitlines()[-1].startswith("monitor: ") and "(#200) Permissions error" in refused.stderr
        assert len(fb.comments_made) == 1


def test_a_stop_is_not_held_up_by_a_batch_of_due_replies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Regression (round 20), the twin of test_actions' for tickets: ReplyService.run_once worked through up to 50
    approved replies with no stop check, each able to wait for a slow platform up to its HTTP timeout, so a daemon
    told to stop burnt its drain bound. The stop is asked before each post; the rest wait, unclaimed."""
    from monitor.config.rules import rules_from
    from monitor.config.settings import load_config
    from monitor.core.clock import SystemClock
    from monitor.core.yamlfile import parse_yaml
    from monitor.respond.replies import ReplyService
    from tests.alert_factory import StopAfter, make_alert

    monkeypatch.setenv("TEST_MASTODON_TOKEN", WRITE)
    with FakeMastodon(write_token=WRITE) as masto:
        cfg, _ = write_config(tmp_path, sources=_disabled_mastodon(masto))
        store = Store(tmp_path / "monitor.db", SystemClock())
        svc = ReplyService(store, lambda: rules_from(parse_yaml(RULES, "rules.yaml")), load_config(cfg), store.clock)
        try:
            for i in range(3):
                st = masto.post(f"acme is broken #{i}")
                alert_id = make_alert(store, source=("fedi", "mastodon"), text=f"Acme is broken #{i}, terrible",
                                      raw={"id": st["id"], "instance_url": masto.url})
                svc.submit(alert_id, f"Sorry about #{i}, please DM us.", "amy")
            stopping = StopAfter(lambda: len(masto.replies))    # the stop arrives while the first reply is posted
            assert svc.run_once(stopping) == 1 and len(masto.replies) == 1
            assert stopping.asked == [0, 1]
            left = store.query("SELECT attempts, not_before FROM replies WHERE state = 'approved'")
            assert len(left) == 2 and all(r["attempts"] == 0 and r["not_before"] is None for r in left)  # unclaimed
            assert svc.run_once() == 2 and len(masto.replies) == 3
            assert sorted(r["form"]["status"] for r in masto.replies) == [f"Sorry about #{i}, please DM us."
                                                                          for i in range(3)]
        finally:
            svc.close()
            store.close()
