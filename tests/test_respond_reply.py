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
