"""A claimed reply or ticket is not claimed again while its attempt can still be running, and is right after.

Regression (ops notes, round 21): the claim was a constant 90 s ("longer than one post can take") unrelated to
anything that bounded a post: the respond client's 20 s per-read timeout (a trickling platform never trips it),
tweepy's X client with no timeout at all. A deployment whose posts could run longer got a second post from
another replica; one whose posts are cut sooner waited 90 s after a crash for nothing. Now `http.deadline`
bounds every attempt (its sockets are shut then) and the claim is that deadline plus a margin
(`respond.attempt`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.config.rules import rules_from
from monitor.config.settings import load_config
from monitor.core.clock import FakeClock, SystemClock
from monitor.core.yamlfile import parse_yaml
from monitor.respond.attempt import CLAIM_MARGIN_S, bounded, claim_lease
from monitor.respond.posters import ReplyTransient, poster_for
from monitor.respond.replies import ReplyService
from monitor.respond.tickets import ActionService
from monitor.sources import REGISTRY
from monitor.sources.fetch import HttpConfig
from monitor.store.database import Store
from tests.alert_factory import make_alert
from tests.conftest import RULES, write_config
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import LocalServer, Reply, Request
from tests.fakes.twitter import FakeX, Tweet
from tests.test_actions import rules_with
from tests.test_respond_reply import _disabled_mastodon
from tests.timing import Stopwatch

WRITE = "mastodon-write-token-0123456789"
RULES_OBJ = rules_from(parse_yaml(RULES, "rules.yaml"))


def _service(tmp_path: Path, masto: FakeMastodon, deadline: str, clock: Any) -> tuple[Store, ReplyService]:
    cfg, _ = write_config(tmp_path, sources=_disabled_mastodon(masto))
    cfg.write_text(cfg.read_text().replace("http:\n", f"http:\n  deadline: {deadline}\n"))
    store = Store(tmp_path / "monitor.db", clock)
    return store, ReplyService(store, lambda: RULES_OBJ, load_config(cfg), clock)


def _approved_reply(store: Store, svc: ReplyService, masto: FakeMastodon) -> int:
    st = masto.post("acme is broken")
    alert_id = make_alert(store, source=("fedi", "mastodon"), text="Acme is broken, terrible",
                          raw={"id": st["id"], "instance_url": masto.url})
    return svc.submit(alert_id, "Sorry, please DM us.", "amy").id


@pytest.mark.parametrize("deadline, lease", [("10s", 40.0), ("60s", 90.0), ("4m", 270.0)])
def test_the_claim_lease_follows_http_deadline(tmp_path: Path, deadline: str, lease: float) -> None:
    with FakeMastodon(write_token=WRITE) as masto:
        store, svc = _service(tmp_path, masto, deadline, FakeClock())
        try:
            assert svc.lease == lease == claim_lease(svc.config.http) == svc.config.http.deadline + CLAIM_MARGIN_S
            assert ActionService(store, lambda: RULES_OBJ, store.clock, http=svc.config.http).lease == lease
            reply_id = _approved_reply(store, svc, masto)
            assert svc.claim(reply_id)
            assert svc.get(reply_id).claimed_until == store.clock.now() + lease
        finally:
            svc.close()
            store.close()


@pytest.mark.parametrize("deadline", ["10s", "4m"])
def test_a_claimed_reply_is_not_claimed_again_while_its_attempt_can_run_and_is_right_after(
        tmp_path: Path, deadline: str) -> None:
    """On the database clock (a fake one): a second worker (another replica, or the next pass after a crash)
    finds the row held until the attempt's deadline plus the margin has passed, then takes it at once. With
    `4m`, the old constant 90 s handed the row over 2.5 minutes into an attempt that could still post."""
    clock = FakeClock()
    with FakeMastodon(write_token=WRITE) as masto:
        store, first = _service(tmp_path, masto, deadline, clock)
        second = ReplyService(store, lambda: RULES_OBJ, first.config, clock)
        try:
            reply_id = _approved_reply(store, first, masto)
            assert first.claim(reply_id)
            attempt = first.config.http.deadline
            for t in (0.0, attempt / 2, attempt, attempt + CLAIM_MARGIN_S - 0.5):
                clock.set(first.get(reply_id).claimed_until - first.lease + t)
                assert not second.claim(reply_id), f"taken {t:g}s into an attempt that may run {attempt:g}s"
            clock.set(first.get(reply_id).claimed_until)
            assert second.claim(reply_id)
            assert second.get(reply_id).attempts == 2
        finally:
            second.close()
            first.close()
            store.close()


def test_a_platform_holding_its_answer_is_cut_at_http_deadline_and_retried(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """What the lease relies on: an attempt ends by `http.deadline` (before, the respond client waited up to 20 s
    for each read, so this post took the platform's full 8 s). The row goes back to waiting, said why."""
    monkeypatch.setenv("TEST_MASTODON_TOKEN", WRITE)
    with FakeMastodon(write_token=WRITE) as masto:
        masto.create_delay = 8.0
        store, svc = _service(tmp_path, masto, "1500ms", SystemClock())
        try:
            reply_id = _approved_reply(store, svc, masto)
            with Stopwatch() as sw:
                assert svc.post(reply_id) is None
            sw.assert_within(1.5, 0.5, "a reply attempt against a platform holding its answer")
            row = svc.get(reply_id)
            assert row.state == "approved" and row.claimed_by is None and row.attempts == 1
            assert row.last_error == "no complete answer within http.deadline (1.5s)"
            assert row.not_before is not None and row.not_before > store.clock.now()
        finally:
            svc.close()
            store.close()


def test_x_replies_through_tweepy_are_cut_at_the_deadline_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """tweepy's client has no timeout at all: without the guard this post waited the fake's full 30 s."""
    monkeypatch.setenv("TWITTER_USER_ACCESS_TOKEN", "user-ctx-token")
    with FakeX() as x:
        x.user_token = "user-ctx-token"
        x.add(Tweet(11, "Acme support is down again"))
        x.faults.append(Reply(201, b"{}", delay=30))
        opts = REGISTRY["twitter"].Options.model_validate({"id": "x", "kind": "twitter", "query": "acme",
                                                            "api_url": x.url})
        poster = poster_for("twitter")(opts, httpx.Client())  # type: ignore[misc]
        http = HttpConfig(deadline=1.5)
        with Stopwatch() as sw, pytest.raises(ReplyTransient), bounded(http, poster.endpoints()) as guard:
            poster.post({"external_id": "11", "raw": "{}", "source_kind": "twitter"}, "Sorry!", "k")
        sw.assert_within(1.5, 0.5, "an X reply attempt against a silent API")
        assert guard.fired


class HeldHook(LocalServer):
    """A webhook that records, while its answer is pending, how long the ticket's claim still runs."""

    def __init__(self, store: Store) -> None:
        super().__init__(self._serve)
        self.store = store
        self.claims: list[float] = []

    def _serve(self, req: Request) -> Reply:
        row = self.store.one("SELECT claimed_until - db_now() AS held FROM actions") or {}
        self.claims.append(float(row["held"]))
        return Reply(200, b'{"key": "OPS-1"}', {"Content-Type": "application/json"})


def test_a_ticket_is_claimed_for_http_deadline_plus_the_margin(fresh_db: Store) -> None:
    with HeldHook(fresh_db) as hook:
        rules = rules_with(f"{hook.url}/in", "webhook")
        make_alert(fresh_db)
        svc = ActionService(fresh_db, lambda: rules, fresh_db.clock, http=HttpConfig(deadline=200.0))
        try:
            assert svc.run_once() == 1
        finally:
            svc.close()
        [held] = hook.claims               # what is left of the claim while the webhook answers, on the db clock
        assert abs(held - (200.0 + CLAIM_MARGIN_S)) < 5.0
