"""A reply or ticket answered by a redirect: 307/308 followed with the same method and body, under the address
policy; 301/302/303 (which would turn the POST into a GET) and endless redirects fail, naming the Location.

Regression (round 22, silent loss): the respond client does not follow redirects and `posters.check` took any
status below 400 for success, so a webhook, a ticket system or a platform answering 307, 308 or 301 had the
action recorded as done, or the reply as posted, with nothing made.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from monitor.respond.tickets import ActionService
from monitor.sources.fetch import HttpConfig
from monitor.store.database import Store
from tests.alert_factory import make_alert
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import LocalServer, Reply, Request
from tests.fakes.twitter import FakeX, Tweet
from tests.test_actions import env, rules_with  # noqa: F401 - the fixture
from tests.test_respond_address_policy import (
    WRITE,
    _mastodon,
    _reply_to,
    _service,
    _thread_notes,
    _tweet_reply,
    _twitter,
)

TICKET = Reply(200, b'{"key": "OPS-9", "url": "https://ops.example/OPS-9"}', {"Content-Type": "application/json"})


def _to(location: str, status: int = 307) -> Reply:
    return Reply(status, b"", {"Location": location, "Content-Length": "0"})


def _alert(store: Store) -> int:
    """An alert whose root message is out (thread notes are queued under it)."""
    alert_id = make_alert(store)
    with store.tx() as db:
        db.execute("UPDATE alerts SET notified_at = ? WHERE id = ?", (store.now(), alert_id))
    return alert_id


def _action(store: Store) -> dict[str, object]:
    return store.one("SELECT * FROM actions") or {}


def _notes(store: Store) -> str:
    return json.dumps([r["payload"] for r in store.query("SELECT payload FROM deliveries WHERE dedupe_key LIKE"
                                                         " '%action:%:failed%'")])


@pytest.mark.parametrize("status", [307, 308])
def test_a_webhook_moved_with_307_or_308_on_its_origin_is_followed_with_its_body_and_signature(
        fresh_db: Store, env: None, status: int) -> None:   # noqa: F811 - the fixture
    """The same POST, body and signature reach the new path, and its answer is the ticket."""
    def handler(req: Request) -> Reply:
        return TICKET if req.path == "/moved" else _to(f"{hook.url}/moved", status)
    with LocalServer(handler) as hook:
        rules = rules_with(hook.url + "/in", "webhook", secret_env="T_SECRET")
        _alert(fresh_db)
        assert ActionService(fresh_db, lambda: rules, fresh_db.clock, http=HttpConfig()).run_once() == 1
    first, moved = hook.requests
    assert (moved.method, moved.path, moved.body) == ("POST", "/moved", first.body)
    assert moved.headers["x-monitor-signature"] == first.headers["x-monitor-signature"]
    row = _action(fresh_db)
    assert row["state"] == "done" and row["ticket_key"] == "OPS-9", row


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize(("kind", "extra", "carried"), [
    ("webhook", {"secret_env": "T_SECRET"}, "X-Monitor-Signature"),
    ("jira", {"token_env": "T_TOKEN", "user_env": "T_USER", "project": "SUP"}, "Authorization"),
])
def test_a_signed_or_authorized_action_moved_to_another_origin_is_not_followed(
        fresh_db: Store, env: None, caplog: pytest.LogCaptureFixture, status: int,   # noqa: F811 - the fixture
        kind: str, extra: dict[str, str], carried: str) -> None:
    """Regression (round 23, a signed request handed to a stranger): a 307/308 to another origin (another port,
    `http.allow_private` on so the address policy lets it) was followed with the webhook's
    `X-Monitor-Signature`, a valid signed request the new origin could replay to the configured endpoint.
    Now nothing reaches it; the action fails for good naming the Location and the header (never its value)."""
    with LocalServer(lambda req: TICKET) as final, \
            LocalServer(lambda req: _to(f"{final.url}/moved", status)) as front:
        rules = rules_with(front.url + "/in", kind, **extra)
        _alert(fresh_db)
        with caplog.at_level(logging.ERROR, logger="monitor.respond.tickets"):
            svc = ActionService(fresh_db, lambda: rules, fresh_db.clock, http=HttpConfig(allow_private=True))
            assert svc.run_once() == 0
    assert len(front.requests) == 1 and final.requests == []
    want = (f"{kind} answered HTTP {status} redirecting the POST to {final.url}/moved: not followed (another"
            f" origin, and the request carries {carried}); configure the final URL")
    row = _action(fresh_db)
    assert row["state"] == "failed" and row["last_error"] == want and row["attempts"] == 1, row
    assert "configure the final URL" in _notes(fresh_db)
    assert [r.error for r in caplog.records if r.getMessage() == "action failed"] == [want]  # type: ignore[attr-defined]


def test_an_unsigned_webhook_moved_to_another_origin_is_followed(fresh_db: Store, env: None) -> None:  # noqa: F811
    """Nothing in it is a credential (`attempt.PLAIN_HEADERS`): the refusal above is not a blanket one."""
    with LocalServer(lambda req: TICKET) as final, LocalServer(lambda req: _to(f"{final.url}/moved")) as front:
        rules = rules_with(front.url + "/in", "webhook")
        _alert(fresh_db)
        assert ActionService(fresh_db, lambda: rules, fresh_db.clock, http=HttpConfig(allow_private=True)).run_once() == 1
    [first], [moved] = front.requests, final.requests
    assert moved.body == first.body and moved.headers["x-monitor-delivery"] == first.headers["x-monitor-delivery"]
    assert _action(fresh_db)["ticket_key"] == "OPS-9"


def test_a_307_into_an_unconfigured_internal_host_is_refused_under_the_address_policy(
        fresh_db: Store, env: None, caplog: pytest.LogCaptureFixture) -> None:   # noqa: F811 - the fixture
    """`http.allow_private` off: the redirect's target is not the configured `url` (another port), so the
    follow-up is refused before a byte is sent, and the action fails for good, said."""
    with LocalServer(lambda req: TICKET) as final, LocalServer(lambda req: _to(f"{final.url}/moved")) as front:
        rules = rules_with(front.url + "/in", "webhook")
        _alert(fresh_db)
        with caplog.at_level(logging.ERROR, logger="monitor.respond.tickets"):
            assert ActionService(fresh_db, lambda: rules, fresh_db.clock, http=HttpConfig()).run_once() == 0
    assert len(front.requests) == 1 and final.requests == []
    row = _action(fresh_db)
    assert row["state"] == "failed" and str(row["last_error"]).startswith(
        "refused to connect to 127.0.0.1: not a public address and not an endpoint configured in rules.yaml"), row
    assert "failed: refused to connect to 127.0.0.1" in _notes(fresh_db)
    assert any(r.getMessage() == "action failed" for r in caplog.records)


def test_a_307_on_the_configured_host_is_followed_without_allow_private(fresh_db: Store, env: None) -> None:  # noqa: F811
    def handler(req: Request) -> Reply:
        return TICKET if req.path == "/v2/in" else _to("/v2/in")          # a relative Location
    with LocalServer(handler) as hook:
        rules = rules_with(hook.url + "/in", "webhook")
        _alert(fresh_db)
        assert ActionService(fresh_db, lambda: rules, fresh_db.clock, http=HttpConfig()).run_once() == 1
    assert [(r.method, r.path) for r in hook.requests] == [("POST", "/in"), ("POST", "/v2/in")]
    assert _action(fresh_db)["ticket_key"] == "OPS-9"


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_webhook_answering_301_302_or_303_fails_naming_the_location(
        fresh_db: Store, env: None, caplog: pytest.LogCaptureFixture, status: int) -> None:   # noqa: F811
    """A client following these re-sends the POST as a GET: nothing would be made. Not followed, not done:
    failed for good with the Location, in `last_error`, the thread and an ERROR."""
    with LocalServer(lambda req: TICKET) as final, \
            LocalServer(lambda req: _to(f"{final.url}/elsewhere", status)) as front:
        rules = rules_with(front.url + "/in", "webhook")
        _alert(fresh_db)
        with caplog.at_level(logging.ERROR, logger="monitor.respond.tickets"):
            svc = ActionService(fresh_db, lambda: rules, fresh_db.clock, http=HttpConfig(allow_private=True))
            assert svc.run_once() == 0
    assert len(front.requests) == 1 and final.requests == []
    row = _action(fresh_db)
    want = (f"webhook answered HTTP {status} redirecting the POST to {final.url}/elsewhere: not followed (it would"
            " be re-sent as GET and nothing made); configure the final URL")
    assert row["state"] == "failed" and row["last_error"] == want and row["ticket_key"] is None, row
    assert f"webhook answered HTTP {status} redirecting the POST to" in _notes(fresh_db)
    assert [r.error for r in caplog.records if r.getMessage() == "action failed"] == [want]  # type: ignore[attr-defined]


def test_a_redirect_loop_fails_after_http_max_redirects(fresh_db: Store, env: None) -> None:  # noqa: F811
    with LocalServer(lambda req: _to(f"/hop{int(req.path.strip('/hop') or 0) + 1}")) as hook:
        rules = rules_with(hook.url + "/hop0", "webhook")
        _alert(fresh_db)
        assert ActionService(fresh_db, lambda: rules, fresh_db.clock, http=HttpConfig(max_redirects=3)).run_once() == 0
    assert len(hook.requests) == 4
    row = _action(fresh_db)
    assert row["state"] == "failed" and str(row["last_error"]).endswith(
        "/hop4: not followed (more than http.max_redirects (3))"), row


def test_a_reply_redirected_to_another_origin_is_not_followed_and_not_posted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The configured instance answers the status POST with 307 to another origin (allow_private on, so the
    address policy lets it): not followed, neither with the token nor without it (until round 23 it went on
    without `Authorization`, httpx's and requests' rule, carrying the customer's text to a server nobody chose,
    where it could only fail); the reply fails naming the Location instead of being recorded as posted."""
    monkeypatch.setenv("TEST_MASTODON_TOKEN", WRITE)
    with LocalServer(lambda req: Reply(401, b'{"error": "The access token is invalid"}')) as other, \
            FakeMastodon(write_token=WRITE) as masto:
        store, svc = _service(tmp_path, _mastodon(masto.url), allow_private=True)
        try:
            st = masto.post("acme is broken")
            masto.post_faults = [(307, {"Location": f"{other.url}/api/v1/statuses"})]
            alert_id, reply_id = _reply_to(store, svc, {"id": st["id"], "instance_url": masto.url},
                                           ("fedi", "mastodon"))
            assert svc.post(reply_id) is None
            row = svc.get(reply_id)
            assert row.state == "failed" and row.last_error == (
                f"mastodon answered HTTP 307 redirecting the POST to {other.url}/api/v1/statuses: not followed"
                " (another origin, and the request carries Authorization); configure the final URL"), row
            assert other.requests == []
            assert "was not posted: mastodon answered HTTP 307" in _thread_notes(store, alert_id)
        finally:
            svc.close()
            store.close()


def test_a_reply_answered_302_is_not_recorded_as_posted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_MASTODON_TOKEN", WRITE)
    with FakeMastodon(write_token=WRITE) as masto:
        store, svc = _service(tmp_path, _mastodon(masto.url))
        try:
            st = masto.post("acme is broken")
            masto.post_faults = [(302, {"Location": f"{masto.url}/login"})]
            _, reply_id = _reply_to(store, svc, {"id": st["id"], "instance_url": masto.url}, ("fedi", "mastodon"))
            assert svc.post(reply_id) is None
            row = svc.get(reply_id)
            assert row.state == "failed" and row.posted_at is None and row.last_error == (
                f"mastodon answered HTTP 302 redirecting the POST to {masto.url}/login: not followed (it would be"
                " re-sent as GET and nothing made); configure the final URL"), row
            assert [r.path for r in masto.requests if r.method == "POST"] == ["/api/v1/statuses"]
        finally:
            svc.close()
            store.close()


def test_x_answering_302_to_the_tweet_fails_instead_of_posting_it_as_a_get(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tweepy's `requests` follows redirects itself, a 302 to a POST as a GET: refused by a response hook."""
    monkeypatch.setenv("TWITTER_USER_ACCESS_TOKEN", "user-ctx-token")
    with LocalServer(lambda req: Reply(200, b'{"data": {"id": "99"}}')) as final, \
            LocalServer(lambda req: _to(f"{final.url}{req.path}", 302)) as front:
        store, svc = _service(tmp_path, _twitter(front.url), allow_private=True)
        try:
            assert svc.post(_tweet_reply(store, svc)) is None
            row = svc.get(1)
            assert row.state == "failed" and row.last_error == (
                f"x answered HTTP 302 redirecting the POST to {final.url}/2/tweets: not followed (it would be"
                " re-sent as GET and nothing made); configure the final URL"), row
            assert [r.method for r in front.requests] == ["POST"] and final.requests == []
        finally:
            svc.close()
            store.close()


USER_TOKEN = "x-user-context-token-0123456789"


def _x() -> FakeX:
    """A fake X API that takes the user-context token and knows tweet 11 (the mention replied to)."""
    x = FakeX()
    x.user_token = USER_TOKEN
    x.add(Tweet(11, "acme is broken"))
    return x


@pytest.mark.parametrize("status", [307, 308])
def test_x_reply_redirected_307_or_308_to_another_origin_is_not_followed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    """Regression (round 23, the X poster outside the redirect policy): tweepy's `requests` follows 307/308
    itself and strips only `Authorization` across origins, so the POST /2/tweets with the customer's text went
    on to a server nobody configured (another port here, `allow_private` on so the address policy lets it).
    Now `attempt.judge` refuses it as it does every write carrying a credential: nothing reaches the other
    origin, and the reply fails naming the Location and the header, never its value."""
    monkeypatch.setenv("TWITTER_USER_ACCESS_TOKEN", USER_TOKEN)
    with _x() as other, _x() as front:
        front.faults = [_to(f"{other.url}/2/tweets", status)]
        store, svc = _service(tmp_path, _twitter(front.url), allow_private=True)
        try:
            assert svc.post(_tweet_reply(store, svc)) is None
            row = svc.get(1)
            assert row.state == "failed" and row.posted_at is None and row.last_error == (
                f"x answered HTTP {status} redirecting the POST to {other.url}/2/tweets: not followed (another"
                " origin, and the request carries Authorization); configure the final URL"), row
            assert other.requests == [] and other.created == [] and front.created == []
            assert USER_TOKEN not in str(row)
        finally:
            svc.close()
            store.close()


def test_x_reply_redirected_307_on_its_own_origin_is_followed_with_its_token(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The twin: the same origin may move the endpoint; the POST goes on with its body and token, and the reply
    is posted once."""
    monkeypatch.setenv("TWITTER_USER_ACCESS_TOKEN", USER_TOKEN)
    with _x() as x:
        x.faults = [_to(f"{x.url}/2/tweets")]
        store, svc = _service(tmp_path, _twitter(x.url), allow_private=True)
        try:
            svc.post(_tweet_reply(store, svc))
            row = svc.get(1)
            assert row.state == "posted", row
            assert [c["text"] for c in x.created] == ["Sorry, please DM us."]
            first, moved = x.requests
            assert (first.method, moved.method, moved.body) == ("POST", "POST", first.body)
        finally:
            svc.close()
            store.close()
