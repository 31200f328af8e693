"""Replies and tickets under the collectors' address policy: configured endpoints trusted, anything else public.

Regression (round 22, SSRF): every reply and ticket attempt ran with `allow_private=True`, so a stored mention
naming an internal host as its Mastodon instance (a source since re-pointed or removed, a crafted row), or a
platform redirecting the post, had the daemon send an authenticated request into the internal network. Since
round 22 a Mastodon token goes only to an instance its source lists, whatever the address. Now
the endpoints configured in monitor.yaml (the source's instances and `api_url`, the poster's variables) and
rules.yaml (an action's `url`) may be internal; any other address must be public unless
`http.allow_private: true`. A refusal fails the row at once with the reason (a refused address will not
become public: not retried), said in the alert's thread and logged.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from monitor.config.rules import rules_from
from monitor.config.settings import load_config
from monitor.core.clock import SystemClock
from monitor.core.netguard import WATCHDOG
from monitor.core.yamlfile import parse_yaml
from monitor.respond.attempt import bounded, refusal
from monitor.respond.replies import ReplyService
from monitor.sources.fetch import HttpConfig
from monitor.store.database import Store
from tests.alert_factory import make_alert
from tests.conftest import RULES, write_config
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import LocalServer, Reply, Request

WRITE = "mastodon-write-token-0123456789"
RULES_OBJ = rules_from(parse_yaml(RULES, "rules.yaml"))
ELSEWHERE = "https://mastodon.example"        # a configured instance that is not the mention's


def _service(tmp_path: Path, sources: str, allow_private: bool = False) -> tuple[Store, ReplyService]:
    cfg, _ = write_config(tmp_path, sources=sources)
    text = cfg.read_text()
    assert "allow_private: true" in text
    cfg.write_text(text.replace("allow_private: true", f"allow_private: {str(allow_private).lower()}"))
    store = Store(tmp_path / "monitor.db", SystemClock())
    return store, ReplyService(store, lambda: RULES_OBJ, load_config(cfg), SystemClock())


def _mastodon(instances: str, token_env: str = "TEST_MASTODON_TOKEN") -> str:
    return f"""\
        - id: fedi
          kind: mastodon
          instances: [{instances}]
          tags: [acme]
          token_env: {token_env}
          enabled: false
          every: 1m
    """


def _twitter(api_url: str) -> str:
    return f"""\
        - id: x
          kind: twitter
          query: acme
          api_url: {api_url}
          enabled: false
          every: 1m
    """


def _tweet_reply(store: Store, svc: ReplyService) -> int:
    """A reply to tweet 11, approved."""
    _, reply_id = _reply_to(store, svc, {}, ("x", "twitter"))
    with store.tx() as db:
        db.execute("UPDATE mentions SET external_id = '11'")
    return reply_id


def _reply_to(store: Store, svc: ReplyService, raw: dict[str, object], source: tuple[str, str]) -> tuple[int, int]:
    alert_id = make_alert(store, source=source, text="Acme is broken, terrible", raw=raw)
    with store.tx() as db:                       # its root message is out: thread notes are queued under it
        db.execute("UPDATE alerts SET notified_at = ? WHERE id = ?", (store.now(), alert_id))
    return alert_id, svc.submit(alert_id, "Sorry, please DM us.", "amy").id


def _thread_notes(store: Store, alert_id: int) -> str:
    return " ".join(r["payload"] for r in store.query("SELECT payload FROM deliveries WHERE alert_id = ? AND"
                                                      " dedupe_key LIKE '%reply:%:failed%'", (alert_id,)))


@pytest.mark.parametrize("named", ["127.0.0.1", "localhost"])
def test_the_configured_instance_is_trusted_though_internal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            named: str) -> None:
    """The twin: the same mention, its instance configured on the source (by name; `localhost` is trusted by
    its addresses, ::1 and 127.0.0.1, where the fake listens), posts with `http.allow_private` off."""
    monkeypatch.setenv("TEST_MASTODON_TOKEN", WRITE)
    with FakeMastodon(write_token=WRITE) as masto:
        store, svc = _service(tmp_path, _mastodon(f"http://{named}:{masto.port}"))
        try:
            st = masto.post("acme is broken")
            _, reply_id = _reply_to(store, svc, {"id": st["id"], "instance_url": f"http://{named}:{masto.port}"},
                                    ("fedi", "mastodon"))
            posted = svc.post(reply_id)
            assert posted is not None and posted.state == "posted", svc.get(reply_id)
            assert len(masto.replies) == 1
        finally:
            svc.close()
            store.close()


@pytest.mark.parametrize("configured, named, allow_private", [
    (ELSEWHERE, "127.0.0.1", True),       # an instance the source does not list (an older config, a crafted row)
    ("http://127.0.0.1:{port}", "localhost", True),    # the same address under another name: another virtual host
    ("http://127.0.0.1:{port}", "127.0.0.1:{port}/sub", True),    # another path on the configured host
    (ELSEWHERE, "localhost", False),      # internal, unlisted: refused before any connection is tried
    (ELSEWHERE, "10.255.255.1", False),   # nothing listens there: an attempt would hang to the deadline
])
def test_the_token_is_never_sent_to_an_instance_the_source_does_not_list(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, configured: str,
        named: str, allow_private: bool) -> None:
    """Regression (round 22, token leak): the poster sent the source's access token to whatever instance the
    stored mention named, unless the address policy happened to refuse the address (an internal one with
    `http.allow_private` off). With it on, only the instance check stands between the token and the fake,
    whose request log must stay empty. The row fails for good with the reason, the thread is told, an ERROR is
    logged, nothing is retried."""
    monkeypatch.setenv("TEST_MASTODON_TOKEN", WRITE)
    with FakeMastodon(write_token=WRITE) as masto:
        store, svc = _service(tmp_path, _mastodon(configured.format(port=masto.port)), allow_private)
        try:
            st = masto.post("acme is broken")
            named = named if ":" in named else f"{named}:{masto.port}"
            alert_id, reply_id = _reply_to(store, svc, {"id": st["id"], "instance_url": f"http://{named.format(port=masto.port)}"},
                                           ("fedi", "mastodon"))
            with caplog.at_level(logging.ERROR, logger="monitor.respond.replies"):
                assert svc.post(reply_id) is None
            row = svc.get(reply_id)
            assert row.state == "failed" and row.attempts == 1 and row.claimed_by is None, row
            assert row.last_error == (
                f"this mention came from http://{named.format(port=masto.port)}, which is not an instance configured"
                f" for its source (source fedi lists {configured.format(port=masto.port)}): its access token is not"
                " sent there; reply on Mastodon and use Mark replied"), row.last_error
            assert masto.requests == [] and masto.replies == []
            assert "was not posted: this mention came from" in _thread_notes(store, alert_id)
            assert [r.error for r in caplog.records if r.getMessage() == "reply refused"] == [row.last_error]  # type: ignore[attr-defined]
            assert svc.run_once() == 0 and svc.get(reply_id).attempts == 1 and masto.requests == []
        finally:
            svc.close()
            store.close()


def test_a_mention_whose_source_is_gone_sends_no_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The source removed from monitor.yaml: whose token and which instances are unknown, so nothing is sent
    (before: the default $MASTODON_ACCESS_TOKEN went to the instance the row named)."""
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", WRITE)
    monkeypatch.setenv("TEST_MASTODON_TOKEN", WRITE)
    with FakeMastodon(write_token=WRITE) as masto:
        store, svc = _service(tmp_path, _mastodon(masto.url), allow_private=True)
        try:
            st = masto.post("acme is broken")
            _, reply_id = _reply_to(store, svc, {"id": st["id"], "instance_url": masto.url}, ("fedi", "mastodon"))
            with store.tx() as db:
                db.execute("UPDATE mentions SET source_id = 'gone'")
            assert svc.post(reply_id) is None
            row = svc.get(reply_id)
            assert row.state == "failed" and row.last_error is not None, row
            assert "(source gone is no longer in monitor.yaml): its access token is not sent there" in row.last_error
            assert masto.requests == []
        finally:
            svc.close()
            store.close()


def test_a_platform_redirecting_the_post_into_the_internal_network_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """X's client (tweepy over `requests`) follows redirects by itself: the configured `api_url` answering
    307 to another internal service (another port on loopback) gets the post refused, not forwarded. Since
    round 23 the redirect policy (`attempt.judge`, another origin with a credential) refuses it before the
    address policy is asked: either way nothing reaches the internal service."""
    monkeypatch.setenv("TWITTER_USER_ACCESS_TOKEN", "user-ctx-token")
    with LocalServer(lambda req: Reply(200, b"{}")) as internal:
        def redirect(req: Request) -> Reply:
            return Reply(307, b"", {"Location": f"{internal.url}{req.path}", "Content-Length": "0"})
        with LocalServer(redirect) as front:
            store, svc = _service(tmp_path, _twitter(front.url))
            try:
                reply_id = _tweet_reply(store, svc)
                assert svc.post(reply_id) is None
                row = svc.get(reply_id)
                assert row.state == "failed" and row.last_error is not None, row
                assert row.last_error == (f"x answered HTTP 307 redirecting the POST to {internal.url}/2/tweets: not"
                                          " followed (another origin, and the request carries Authorization);"
                                          " configure the final URL"), row.last_error
                assert [r.method for r in front.requests] == ["POST"] and internal.requests == []
            finally:
                svc.close()
                store.close()


def test_a_refusal_inside_a_library_s_own_guard_is_the_attempt_s_refusal_too() -> None:
    """The official posters' token grants (`sources.auth`) open their own guarded fetch inside the attempt:
    a connection refused there must fail the reply as refused, not as a transient error retried 12 times."""
    with LocalServer(lambda req: Reply(200, b"{}")) as canary, bounded(HttpConfig()) as attempt:
        with WATCHDOG.guard(5, trusted=["https://oauth2.example/token"]) as grant:
            with pytest.raises(ConnectionRefusedError, match="not a public address"):
                socket.create_connection(("127.0.0.2", canary.port), timeout=1)
        assert grant.refused == attempt.refused == ["127.0.0.2"] and canary.requests == []
        why = refusal(attempt, "monitor.yaml")
    assert why is not None and why.startswith("refused to connect to 127.0.0.2: not a public address")


def test_a_refused_address_the_client_moved_past_is_not_the_attempt_s_failure() -> None:
    """A host with a refused address and an allowed one (dual-stack `localhost`: ::1 then 127.0.0.1) connects
    on the second; if the platform then answers 503 the reply is retried, not failed for good as refused."""
    with LocalServer(lambda req: Reply(200, b"{}")) as canary, \
            bounded(HttpConfig(), [canary.url]) as attempt:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", canary.port), timeout=1)
        assert refusal(attempt, "monitor.yaml") is not None
        socket.create_connection(("127.0.0.1", canary.port), timeout=1).close()
        assert attempt.refused == ["127.0.0.2"] and refusal(attempt, "monitor.yaml") is None
