"""Replies and tickets on PostgreSQL replicas: each posted once, even while replicas restart or die.

Real `monitor run` replicas on the session's PostgreSQL, the fake Mastodon (the reply is a status in reply to
the mention's) holding its answer to the reply's POST, a webhook receiver holding its answer to the ticket's.
Regression (restarting replica posts twice): `respond_loop` released every reply and ticket claim at start, a
reset meant for one box; on replicas a replica (re)starting while another was posting released that live claim
and posted the same reply again, and opened the same ticket twice. Claims now carry their replica and lapse on
the database clock: a live one is left alone; a dead replica's is taken once it lapses (the kill test).
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from monitor.config.rules import load_rules
from monitor.config.settings import load_config
from monitor.core.clock import SystemClock
from monitor.respond.attempt import claim_lease
from monitor.respond.replies import ReplyService
from monitor.sources.fetch import HttpConfig
from monitor.store.database import Store
from monitor.store.leases import REPLICA_LIVE_S
from tests.conftest import RULES, write_config
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.process import MonitorProcess
from tests.fakes.server import LocalServer, Reply, Request
from tests.fakes.slack import TOKEN, FakeSlack
from tests.replicas_helpers import pg_url_fixture, wait_until

pytestmark = pytest.mark.slow
pg_url = pg_url_fixture          # a fresh schema per test, also in $MONITOR_DATABASE_URL

WRITE = "mastodon-write-token-0123456789"
HOLD_S = 18.0                    # the most a held answer waits: under the respond client's 20 s read timeout
GRACE_S = 4.0                    # a replica's respond loop makes its first pass at once; this is ample for it


class Hook(LocalServer):
    """A ticket system behind a webhook, with no dedupe of its own: every POST opens a ticket. Its answer is
    held until `gate` is set (at most HOLD_S): a ticket opened, not yet answered."""

    def __init__(self) -> None:
        super().__init__(self._serve)
        self.gate = threading.Event()
        self.opened: list[str] = []

    def _serve(self, req: Request) -> Reply:
        self.opened.append(req.headers.get("x-monitor-delivery", ""))
        self.gate.wait(HOLD_S)
        n = len(self.opened)
        return Reply(200, f'{{"key": "OPS-{n}", "url": "https://ops.example/OPS-{n}"}}'.encode(),
                     {"Content-Type": "application/json"})


class World:
    """One Mastodon complaint, its alert's route opening a webhook ticket, the fake Slack, and replicas."""

    def __init__(self, tmp_path: Path, url: str, *, honour_key: bool, ticket: bool = True) -> None:
        self.url = url
        self.masto = FakeMastodon(write_token=WRITE).start()
        self.masto.honour_idempotency = honour_key
        self.masto.create_gate = threading.Event()
        self.masto.create_delay = HOLD_S
        self.hook = Hook().start()
        self.slack = FakeSlack().start()
        rules = RULES
        if ticket:
            rules = RULES.replace("    notify: comms-oncall\n", "    notify: comms-oncall\n    actions: [ops]\n")
            rules += f"actions:\n  ops:\n    kind: webhook\n    url: {self.hook.url}/in\n"
        self.cfg, self.rules = write_config(tmp_path, slack_url=self.slack.api_url, rules=rules, sources=f"""\
            - id: fedi
              kind: mastodon
              instances: [{self.masto.url}]
              tags: [acme]
              token_env: TEST_MASTODON_TOKEN
              every: 1m
        """)
        self.cfg.write_text(self.cfg.read_text().replace("slack:\n", "slack:\n  interactive: off\n"))
        self.masto.post("@acme your app is broken again, terrible service, I want a refund", acct="jane@example.social")
        self.store = Store(url)

    @contextmanager
    def replica(self) -> Iterator[MonitorProcess]:
        """A replica, up ("daemon started") inside the block, killed at its end if still running."""
        with MonitorProcess(["run", "--config", str(self.cfg), "--rules", str(self.rules)],
                            env={"MONITOR_DATABASE_URL": self.url, "SLACK_BOT_TOKEN": TOKEN,
                                 "TEST_MASTODON_TOKEN": WRITE}) as p:
            p.wait_for("daemon started", timeout=60)
            yield p

    def alert_id(self) -> int:
        wait_until(lambda: self.store.one("SELECT id FROM alerts"), 60, "the complaint's alert")
        return int(self.store.one("SELECT id FROM alerts")["id"])

    def submit_reply(self, alert_id: int) -> int:
        """Stored approved, as the Reply modal stores it; the replicas' respond loops post it."""
        svc = ReplyService(self.store, lambda: load_rules(self.rules), load_config(self.cfg), SystemClock())
        try:
            return svc.submit(alert_id, "Hi jane, sorry! Could you DM us your order number?", "cli:amy").id
        finally:
            svc.close()

    def reply(self, reply_id: int) -> dict[str, Any]:
        return self.store.one("SELECT * FROM replies WHERE id = ?", (reply_id,)) or {}

    def close(self) -> None:
        self.masto.create_gate.set()       # type: ignore[union-attr]
        self.hook.gate.set()
        self.store.close()
        for server in (self.slack, self.hook, self.masto):
            server.stop()


def test_a_replica_restarting_while_another_posts_leaves_its_claim_reply_and_ticket_made_once(tmp_path, pg_url):
    """A (re)starting replica B used to release A's live claims: with the platform slow to answer, B posted the
    same reply again, and opened the same ticket again. The Mastodon fake here does not honour the
    Idempotency-Key (as Bluesky, Reddit and X have none), so a second post is a second status."""
    world = World(tmp_path, pg_url, honour_key=False)
    try:
        with world.replica() as a:
            world.alert_id()
            wait_until(lambda: len(world.hook.opened) == 1, 60, "replica A opening the ticket")
            held = time.monotonic()
            with world.replica():                              # B starts while A's ticket is being opened
                time.sleep(GRACE_S)
                assert time.monotonic() - held < HOLD_S, "B was not up while A's ticket was in flight: nothing tested"
                world.hook.gate.set()
                wait_until(lambda: world.store.one("SELECT state FROM actions")["state"] == "done", 30,
                           "the ticket recorded")
                time.sleep(GRACE_S)                            # a second ticket would be asked for by now
            assert len(world.hook.opened) == 1, world.hook.opened
            action = world.store.one("SELECT * FROM actions")
            assert action["ticket_key"] == "OPS-1" and action["claimed_until"] is None, action

            # B is stopped: A alone claims the reply and posts it, and the platform holds its answer
            reply_id = world.submit_reply(world.alert_id())
            wait_until(lambda: len(world.masto.replies) == 1, 30, "replica A posting the reply")
            held = time.monotonic()
            claim = world.reply(reply_id)
            assert claim["claimed_by"] and claim["claimed_until"], claim
            with world.replica() as b:                         # B restarts while A's post is in flight
                time.sleep(GRACE_S)
                assert time.monotonic() - held < HOLD_S, "B was not up while A's post was in flight: nothing tested"
                world.masto.create_gate.set()                  # type: ignore[union-attr]
                wait_until(lambda: world.reply(reply_id)["state"] == "posted", 30, "the reply marked posted")
                time.sleep(GRACE_S)
                assert len(world.masto.replies) == 1, (world.masto.replies, b.log())
            row = world.reply(reply_id)
            assert row["external_id"] == world.masto.replies[0]["status"]["id"] and row["claimed_by"] is None, row
            assert row["attempts"] == 1, row                   # claimed once: by A
            assert "reply posted" in a.log()
    finally:
        world.close()


def test_a_replica_killed_mid_post_leaves_the_reply_to_another_once_its_claim_lapses(tmp_path, pg_url):
    """Nothing lost: A is killed (SIGKILL) after its POST reached Mastodon, before the answer. B, started right
    after, leaves A's claim alone while it runs (A might still be posting, for all B knows), takes the reply once
    the claim lapses on the database clock, and posts it with the same Idempotency-Key: Mastodon answers with
    the status A's post made, so the complaint gets one reply, and the row records that status."""
    world = World(tmp_path, pg_url, honour_key=True, ticket=False)
    try:
        with world.replica() as a:
            reply_id = world.submit_reply(world.alert_id())
            wait_until(lambda: len(world.masto.replies) == 1, 30, "replica A posting the reply")
            claim = world.reply(reply_id)
            a.signal(signal.SIGKILL)
            a.wait(timeout=10)
            killed = time.monotonic()
        world.masto.create_gate.set()                          # type: ignore[union-attr]  # answered to no one
        lapses = float(claim["claimed_until"])
        posts = sum(r.method == "POST" and r.path == "/api/v1/statuses" for r in world.masto.requests)
        with world.replica() as b:
            time.sleep(max(0.0, killed + REPLICA_LIVE_S + 2 - time.monotonic()))    # A is reported gone by now
            with MonitorProcess(["status", "--config", str(world.cfg)], env={"MONITOR_DATABASE_URL": pg_url}) as st:
                st.wait(timeout=60)
            assert world.reply(reply_id)["state"] == "approved", "posted before A's claim lapsed"
            said = rf"leases of {re.escape(claim['claimed_by'])} \(gone\): .*\breply:{reply_id} until "  # never silent
            assert re.search(said, st.stdout), st.stdout + st.log()
            wait_until(lambda: world.reply(reply_id)["state"] == "posted", claim_lease(HttpConfig()) + 60, "B posting the reply")
        row = world.reply(reply_id)
        assert row["posted_at"] >= lapses, (row, lapses)       # not before A's claim lapsed (one machine's clock)
        assert sum(r.method == "POST" and r.path == "/api/v1/statuses" for r in world.masto.requests) == posts + 1
        assert len(world.masto.replies) == 1, world.masto.replies          # the key: the same status
        assert row["external_id"] == world.masto.replies[0]["status"]["id"] and row["attempts"] == 2, row
        assert "reply posted" in b.log()
    finally:
        world.close()
